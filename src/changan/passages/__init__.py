"""The passage log (the system of record), its reader, and the image store."""
