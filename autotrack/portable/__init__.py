"""Stores carried between machines and trackers: export/import tar files, merge store directories,
import an MLflow server's runs."""
