"""Run Record Archiver: archives artdaq run records into artdaq_database and UconDB."""

__version__ = "0.1.0"
