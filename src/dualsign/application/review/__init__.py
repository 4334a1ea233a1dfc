"""The compliance reviewer's console (质检): reviewers, sign-in, finding sessions, decisions."""
