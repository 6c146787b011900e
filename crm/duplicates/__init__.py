"""Matching of likely duplicate customers: name normalisation, pinyin, similarity and scores.

Pure functions over plain values (no database): `crm.services.duplicates` feeds them the
candidate blocks it reads with SQL, and `crm.services.merges` merges what supervisors confirm.
"""
