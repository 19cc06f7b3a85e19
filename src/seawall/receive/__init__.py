"""Live syslog reception: framing of TCP/TLS streams, and the receiver that stores what arrives."""
