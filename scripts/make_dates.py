#!/usr/bin/env python3
"""Writes testdata/seq2seq/dates.tsv: dates written by people -> ISO 8601.

A small parallel corpus for the seq2seq example (configs/seq2seq-dates.yaml):
each row pairs a date as people write it ("the twenty-third of march 1991",
"Sat, 23 Mar 1991", "23/03/1991", ...) with the same date as YYYY-MM-DD.
Dates are drawn uniformly from 1950-01-01 .. 2049-12-31, formats uniformly
from FORMATS, with Python's random.Random(SEED), which gives the same
draws in every Python 3 version; no date appears twice.

    python3 scripts/make_dates.py > testdata/seq2seq/dates.tsv
"""
import datetime
import random

SEED = 13
PAIRS = 4000

MONTHS = ["january", "february", "march", "april", "may", "june", "july",
          "august", "september", "october", "november", "december"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ONES = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ORDINAL_ONES = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
                "eighth", "ninth"]
TEENS = ["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
         "sixteenth", "seventeenth", "eighteenth", "nineteenth"]


def ordinal_words(d):
    if d < 10:
        return ORDINAL_ONES[d]
    if d < 20:
        return TEENS[d - 10]
    tens = {2: "twenty", 3: "thirty"}[d // 10]
    if d % 10 == 0:
        return tens[:-1] + "ieth"
    return tens + "-" + ORDINAL_ONES[d % 10]


def suffix(d):
    if 10 <= d % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")


FORMATS = [
    lambda t: "%d %s %d" % (t.day, MONTHS[t.month - 1], t.year),
    lambda t: "%s %d, %d" % (MONTHS[t.month - 1].capitalize(), t.day, t.year),
    lambda t: "the %s of %s %d" % (ordinal_words(t.day), MONTHS[t.month - 1], t.year),
    lambda t: "%s, %d %s %d" % (DAYS[t.weekday()][:3].capitalize(), t.day, MONTHS[t.month - 1][:3].capitalize(), t.year),
    lambda t: "%02d/%02d/%d" % (t.day, t.month, t.year),
    lambda t: "%s %d%s %d" % (MONTHS[t.month - 1][:3], t.day, suffix(t.day), t.year),
    lambda t: "%s %s %d" % (ordinal_words(t.day), MONTHS[t.month - 1], t.year),
    lambda t: "%d.%d.%d" % (t.day, t.month, t.year),
]


def main():
    rng = random.Random(SEED)
    first = datetime.date(1950, 1, 1).toordinal()
    last = datetime.date(2049, 12, 31).toordinal()
    seen = set()
    print("date\tiso")
    while len(seen) < PAIRS:
        t = datetime.date.fromordinal(rng.randint(first, last))
        if t in seen:
            continue
        seen.add(t)
        print("%s\t%s" % (rng.choice(FORMATS)(t), t.isoformat()))


main()
