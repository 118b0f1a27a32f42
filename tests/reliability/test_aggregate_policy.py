"""The aggregate view only reads and redaction holds (issue 27), through the engine against the real server.

Each stage outside the whitelist, each pipeline that writes or runs JavaScript (anywhere: inside `$facet`,
`$lookup` too), each expression over a redacted path and each join outside the database is refused with one
line before any command is sent (the command listener proves it). What the pipeline computes never sees a
redacted value: the server redacts the fields it reads first, so grouping, comparing or sorting by a field
that holds a redacted one (or by `$$ROOT`) tells nothing, and the results are redacted by name.
"""

from __future__ import annotations

import json

import pytest
from pymongo import MongoClient

from runway_tui.engine.inspect import Inspector, InspectSettings
from runway_tui.engine.inspect_values import InspectInputError
from tests.support import commands
from tests.support.explorer_data import SECRET_EMAIL, SECRET_PASSWORD, SECRET_SSN

REDACT = ("password", "*.ssn", "email")
SECRETS = (SECRET_EMAIL, SECRET_PASSWORD, SECRET_SSN, "078-05")


@pytest.fixture
def inspector(mongo_client: MongoClient, explorer_db: str) -> Inspector:
    return Inspector(mongo_client[explorer_db], InspectSettings(redact_fields=REDACT))


def refused(inspector: Inspector, text: str, starts: str) -> str:
    with commands.watch() as seen, pytest.raises(InspectInputError) as error:
        inspector.aggregate("people", text)
    message = str(error.value)
    assert message.startswith(starts) and "\n" not in message and len(message) < 300, message
    assert not seen.all(), [c.name for c in seen.all()]  # nothing at all was sent
    return message


@pytest.mark.parametrize("text, starts", [
    ("[{$out: 'copy'}]", "pipeline: stage 1 ($out): $out writes to a collection"),
    ("[{$match: {}}, {$merge: {into: 'copy'}}]", "pipeline: stage 2 ($merge): $merge writes to a collection"),
    ("[{$facet: {a: [{$out: 'copy'}]}}]", "pipeline: stage 1 ($facet): $out writes to a collection"),
    ("[{$lookup: {from: 'rules', pipeline: [{$merge: 'x'}], as: 'r'}}]",
     "pipeline: stage 1 ($lookup): $merge writes to a collection"),
    ("[{$facet: {a: [{$sample: {size: 1}}]}}]", "pipeline: stage 1 ($facet) 'a': stage 1: $sample is not a stage"),
    ("[{$match: {$where: 'true'}}]", "pipeline: stage 1 ($match): $where runs JavaScript"),
    ("[{$set: {x: {$function: {body: 'function() {return 1}', args: [], lang: 'js'}}}}]",
     "pipeline: stage 1 ($set): $function runs JavaScript"),
    ("[{$group: {_id: null, x: {$accumulator: {init: 'f'}}}}]", "pipeline: stage 1 ($group): $accumulator"),
    ("[{$replaceRoot: {newRoot: '$address'}}]", "pipeline: stage 1: $replaceRoot is not a stage the explorer runs"),
    ("[{$unionWith: 'rules'}]", "pipeline: stage 1: $unionWith is not a stage"),
    ("[{$graphLookup: {}}]", "pipeline: stage 1: $graphLookup is not a stage"),
    ("[{$lookup: {from: {db: 'admin', coll: 'system.users'}, pipeline: [], as: 'u'}}]",
     "pipeline: stage 1 ($lookup): 'from' names a collection of this database"),
    ("[{$project: {e: {$concat: ['$name', '']}}}]", "pipeline: stage 1 ($project): 'e' must be 1 (include)"),
    ("[{$match: {a: 1}, $limit: 2}]", "pipeline: stage 1: each stage is an object with one operator"),
    ("{$count: }", "pipeline: not valid at column 10"),
    ("'nope'", "pipeline: expected a list of stages"),
], ids=lambda v: v[:40] if isinstance(v, str) else v)
def test_a_pipeline_that_writes_or_leaves_the_whitelist_is_refused_before_any_command(inspector: Inspector,
                                                                                    text: str, starts: str) -> None:
    refused(inspector, text, starts)


@pytest.mark.parametrize("text, starts", [
    ("[{$group: {_id: '$email', n: {$sum: 1}}}]", "pipeline: stage 1 ($group): a field path over the redacted"),
    ("[{$sortByCount: '$Email'}]", "pipeline: stage 1 ($sortByCount): a field path over the redacted"),
    ("[{$set: {e: {$toUpper: '$profile.ssn'}}}]", "pipeline: stage 1 ($set): a field path over the redacted"),
    ("[{$set: {email: 'x'}}]", "pipeline: stage 1 ($set): setting the redacted field 'email'"),
    ("[{$match: {email: /^ada/}}]", "pipeline: stage 1 ($match): a condition on the redacted field 'email'"),
    ("[{$match: {$expr: {$eq: ['$email', 'x']}}}]", "pipeline: stage 1 ($match): a field path over the redacted"),
    ("[{$sort: {'profile.ssn': 1}}]", "pipeline: stage 1 ($sort): a sort on the redacted field 'profile.ssn'"),
    ("[{$unwind: '$email'}]", "pipeline: stage 1 ($unwind): a field path over the redacted"),
    ("[{$bucket: {groupBy: '$password', boundaries: ['a', 'z']}}]", "pipeline: stage 1 ($bucket): a field path"),
    ("[{$set: {x: {$map: {input: '$orders', as: 'o', in: '$$o.email'}}}}]", "pipeline: stage 1 ($set): a field"),
    ("[{$set: {x: '$$ROOT.password'}}]", "pipeline: stage 1 ($set): a field path over the redacted"),
    ("[{$lookup: {from: 'rules', localField: 'name', foreignField: 'email', as: 'r'}}]",
     "pipeline: stage 1 ($lookup): a join on the redacted field 'email'"),
    ("[{$facet: {a: [{$group: {_id: '$email'}}]}}]", "pipeline: stage 1 ($facet) 'a': stage 1 ($group)"),
    ("[{$project: {'email.domain': 1}}]", "pipeline: stage 1 ($project): a field inside the redacted field"),
], ids=lambda v: v[:40] if isinstance(v, str) else v)
def test_an_expression_over_a_redacted_path_is_refused_before_any_command(inspector: Inspector, text: str,
                                                                          starts: str) -> None:
    refused(inspector, text, starts)


def results(inspector: Inspector, text: str, collection: str = "people") -> list[dict]:
    run = inspector.aggregate(collection, text)
    try:
        docs, number = [], 1
        while True:
            page = run.page(number)
            docs += [json.loads(d) for d in page.documents]
            if not page.has_more:
                return docs
            number += 1
    finally:
        run.close()


def no_secret_in(value: object) -> None:
    text = json.dumps(value)
    assert not [s for s in SECRETS if s in text], text


@pytest.mark.parametrize("text", [
    "[{$group: {_id: '$profile', n: {$sum: 1}}}]",  # a sub-document holding a redacted field, grouped whole
    "[{$sort: {profile: 1}}, {$limit: 3}]",  # ordered by it
    "[{$set: {p: {$objectToArray: '$profile'}}}, {$project: {p: 1}}]",  # its keys turned into values
    "[{$set: {all: {$objectToArray: '$$ROOT'}}}, {$project: {all: 1}}]",  # the whole document
    "[{$group: {_id: null, docs: {$push: '$$ROOT'}}}]",
    "[{$facet: {first: [{$limit: 2}]}}]",  # passed on under another parent
    "[{$lookup: {from: 'rules', pipeline: [], as: 'r'}}, {$set: {r: {$objectToArray: {$first: '$r'}}}}]",
    "[{$match: {$expr: {$gt: [{$size: '$orders'}, 0]}}}, {$limit: 1}]",
], ids=["group-whole", "sort-holder", "objectToArray", "ROOT", "push-ROOT", "facet", "lookup", "expr"])
def test_what_a_pipeline_computes_never_sees_a_redacted_value(inspector: Inspector, text: str) -> None:
    docs = results(inspector, text)
    assert docs
    no_secret_in(docs)


def test_grouping_by_a_holder_tells_nothing_about_the_hidden_values(inspector: Inspector) -> None:
    """Forty different ssn values under `profile`... all the same `***`: the groups follow `since` alone."""
    groups = results(inspector, "[{$group: {_id: {ssn: '$profile.since'}, n: {$sum: 1}}}]")
    by_holder = results(inspector, "[{$group: {_id: '$profile', n: {$sum: 1}}}, {$count: 'groups'}]")
    assert by_holder == [{"groups": len(groups)}]


def test_the_pipeline_sent_redacts_only_what_it_reads_after_its_leading_match(inspector: Inspector) -> None:
    with commands.watch() as seen:
        run = inspector.aggregate("people", "[{$match: {status: 'active'}}, {$group: {_id: '$address', n: {$sum: 1}}}]")
        run.close()
    sent = [c.command["pipeline"] for c in seen.named("aggregate")]
    assert len(sent) == 1 and sent[0][0] == {"$match": {"status": "active"}}
    assert list(sent[0][1]) == ["$set"] and list(sent[0][1]["$set"]) == ["address"]  # what the $group reads
    assert sent[0][2] == {"$group": {"_id": "$address", "n": {"$sum": 1}}}


def test_without_redaction_the_pipeline_is_sent_as_typed(mongo_client: MongoClient, explorer_db: str) -> None:
    plain = Inspector(mongo_client[explorer_db], InspectSettings())
    with commands.watch() as seen:
        plain.aggregate("people", "[{$group: {_id: '$status', n: {$sum: 1}}}]").close()
    assert [c.command["pipeline"] for c in seen.named("aggregate")] == [
        [{"$group": {"_id": "$status", "n": {"$sum": 1}}}]]
