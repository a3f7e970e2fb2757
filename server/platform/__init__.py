"""Infrastructure, no domain rules: settings from the environment, the database and its
SQLite engine, logging, the mailer (outbox and SMTP) and PDF rendering."""
