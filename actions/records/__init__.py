"""The candidate's own records: applications, contacts, follow-ups and reminders."""
