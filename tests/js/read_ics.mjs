// Reads an iCalendar stream on stdin with Mozilla's ical.js and prints what it understood
// as JSON: the calendar name and, per VEVENT, UID, SEQUENCE, STATUS, SUMMARY and the
// start/end as UTC instants (ISO 8601, seconds). Used by tests/unit/test_feed_parsers.py.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const text = Buffer.concat(chunks).toString("utf8");

const root = new ICAL.Component(ICAL.parse(text));
// TZIDs resolve only against registered zones: register the feed's own VTIMEZONEs, as
// Thunderbird does for a subscribed calendar.
for (const vtimezone of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtimezone));
}
const utc = (time) => new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "Z");
const events = root.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    sequence: event.sequence,
    status: component.getFirstPropertyValue("status"),
    summary: event.summary,
    start: utc(event.startDate),
    end: utc(event.endDate),
    tzid: event.startDate.zone ? event.startDate.zone.tzid : null,
    alarms: component.getAllSubcomponents("valarm").length,
  };
});
process.stdout.write(JSON.stringify({
  name: root.getFirstPropertyValue("x-wr-calname"),
  timezones: root.getAllSubcomponents("vtimezone").map((z) => z.getFirstPropertyValue("tzid")),
  events,
}));
