"""The school's review of the change sets people submit: verification, approval, returns."""
