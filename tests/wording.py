"""What a page says around a count of one, read for the slips a sentence
built about a count makes when the count is 1: 'all 1 phase', 'of the 1
release', '1 releases', '1 approved before they were created are left
out'. For the page tests that open a page on a database of one thing and
then of two."""
import re

# 'all 1 phase', 'the 1 release', 'The 1 change' ('the 1st' is not a count)
POINTED_AT = re.compile(r"\b(?:[Aa]ll|[Tt]he) 1 (?![0-9])")
# '1 releases', '1 CAB-required changes': a count of one before a plural
# noun, after a few words that qualify it (not '1 environment with bookings')
PLURAL = re.compile(
    r"(?<![\d,.–-])1 (?:(?!(?:with|of|in|on|at|by|for|from|to|behind)\b)"
    r"[A-Za-z-]+ ){0,3}(?:changes|releases|phases|environments|"
    r"bookings|days|rows|ones|pairs|applications|groups|rejects|weeks)\b"
    r"(?! rows?\b)")  # not a table's name: '1 stored changes row'
# '1 are', '1 approved before they were created', '1 ... have': a count of
# one before a plural verb, a few words on, within its clause
PLURAL_VERB = re.compile(
    r"(?<![\d,.–-])1 (?:[\w()-]+ ){0,5}?(?:are|were|have|they|their|them)\b")


def page_texts(app) -> list[str]:
    """What an AppTest page shows in words: captions, notes, Markdown,
    expander labels and selectbox options."""
    texts = [e.value for kind in ("caption", "info", "warning", "success",
                                  "markdown", "subheader")
             for e in getattr(app, kind)]
    texts += [e.label for e in app.expander]
    texts += [option for box in app.selectbox for option in box.options]
    return [t for t in texts if isinstance(t, str)]


def slips_at_one(texts: list[str]) -> list[str]:
    """The texts that read wrong about a count of one."""
    return [t for t in texts if POINTED_AT.search(t) or PLURAL.search(t)
            or PLURAL_VERB.search(t)]
