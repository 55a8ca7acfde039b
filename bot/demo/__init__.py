"""The demo school: generated sample data and the seeder."""
