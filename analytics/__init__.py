"""The functional core: records, orientation, posture classification, bouts, slouch, exposure.

numpy only: no I/O, no clock reads, no logging set-up. It receives records and returns records.
"""
