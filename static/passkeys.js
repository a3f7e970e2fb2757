/* Passkeys (WebAuthn) for the forms that carry data-passkey (issue 18).
 * - data-passkey="register": on submit, ask the server for creation options, let the
 *   authenticator make a passkey, and post its answer in the form's "credential" field.
 * - data-passkey="authenticate": the same with navigator.credentials.get, posting the
 *   answer in the field named by data-field.
 * The server sends and takes binary values as base64url (WebAuthn Level 3, 5.1.8 JSON forms).
 * Such forms start hidden and are shown only where the browser has passkeys. */
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-passkey]");
  if (!forms.length) return;
  var supported = !!(window.PublicKeyCredential && navigator.credentials && window.fetch);

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var raw = atob(base64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    json.challenge = toBytes(json.challenge);
    json.user.id = toBytes(json.user.id);
    (json.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return { publicKey: json };
  }

  function requestOptions(json) {
    json.challenge = toBytes(json.challenge);
    (json.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return { publicKey: json };
  }

  function registrationJSON(credential) {
    var r = credential.response;
    return {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: {
        clientDataJSON: toText(r.clientDataJSON), attestationObject: toText(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : [],
      },
    };
  }

  function assertionJSON(credential) {
    var r = credential.response;
    return {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: {
        clientDataJSON: toText(r.clientDataJSON), authenticatorData: toText(r.authenticatorData),
        signature: toText(r.signature), userHandle: toText(r.userHandle),
      },
    };
  }

  function fetchOptions(form) {
    var body = new URLSearchParams();
    body.set("csrftoken", (form.querySelector('input[name="csrftoken"]') || {}).value || "");
    return fetch(form.dataset.options, {
      method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" },
    }).then(function (r) {
      return r.json().then(function (json) {
        if (!r.ok) throw new Error(json.detail || "The server refused: try again.");
        return json;
      });
    });
  }

  function say(form, text) {
    var box = form.querySelector("[data-passkey-error]");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }

  function explain(error) {
    if (error && error.name === "NotAllowedError") return "The passkey was not used (cancelled, or it timed out).";
    if (error && error.name === "InvalidStateError") return "This device already holds a passkey for your account.";
    return (error && error.message) || "The passkey did not work.";
  }

  forms.forEach(function (form) {
    if (!supported) return; // the other ways to sign in stay on the page
    form.hidden = false;
    var busy = false;
    form.addEventListener("submit", function (event) {
      var field = form.querySelector('input[name="' + (form.dataset.field || "credential") + '"]');
      if (field.value) return; // the answer is in: let the form go
      event.preventDefault();
      if (busy) return;
      busy = true;
      say(form, "");
      var register = form.dataset.passkey === "register";
      fetchOptions(form)
        .then(function (json) {
          return register ? navigator.credentials.create(creationOptions(json))
                          : navigator.credentials.get(requestOptions(json));
        })
        .then(function (credential) {
          field.value = JSON.stringify(register ? registrationJSON(credential) : assertionJSON(credential));
          form.submit();
        })
        .catch(function (error) { say(form, explain(error)); })
        .then(function () { busy = false; });
    });
  });
  window.groupiptPasskeys = { toBytes: toBytes, toText: toText };
})();
