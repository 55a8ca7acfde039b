"""Judging a batch of roster rows column by column, with the findings ``RecordJudge`` makes row
by row.

Why: a city's roster has millions of rows but few distinct values in most columns (a few thousand
dates of birth, 54 ethnic groups, the wards of one city). ``RecordJudge.judge`` spends ~45 µs of
Python on every row; here each distinct value, or each distinct combination a cross-field rule
reads, is judged once by the record judge's own parsers and rules, and polars spreads the verdicts
over the rows. The two audits share every rule, message and order; they could only disagree on
which values count as "the same", which is kept in one place (``bot.audit.alike``) and
``tests/test_audit_columns.py`` compares them row by row on generated and fuzzed rosters.

Pure: no file, no database; polars frames in, polars frames out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from bot.audit.alike import (
    LOST_PIN,
    SOME_PIN,
    cross_projection,
    given,
    is_pin,
    stand_in,
    stands_for_all,
)
from bot.audit.known import FindingIds, Known
from bot.roster.frame import ROW
from flows.audit import (
    MEMO_LIMIT,
    AuditCode,
    Finding,
    Judged,
    ParsedField,
    RecordJudge,
    audit_finding,
    problem_finding,
)
from flows.catalogue import is_required
from flows.rules import RULES, CrossRule, to_date

Verdicts = dict[object, Judged]


@dataclass(frozen=True)
class BatchVerdict:
    """A batch judged: its findings in report order, and per row what the summary needs.

    ``findings``: ROW, field, code, message, suggestion. ``rows``: ROW, complete, correct, clean,
    police, police_codes (the police findings' codes joined with ",", null when not listed), cccd
    (Int64 of a valid stored PIN, else null), ho_ten (the stored name, else what was typed).
    """

    findings: pl.DataFrame
    rows: pl.DataFrame


#: Bound on the finding sets numbered at once (each a row in the findings frame): past it, all
#: known verdicts are dropped and numbered again (the judge's memo of ``Judged`` stays).
ID_LIMIT = 50_000


class ColumnJudge:
    """``RecordJudge`` over batches of rows.

    A batch takes a few polars queries: the field values and rule combinations that no earlier
    batch had are found (anti-joins on what is known), judged in Python, added to what is known,
    and every row gets its verdicts by joins. After the first batches of a roster almost nothing
    is new, so the Python work per batch is small and independent of the batch's size.
    """

    def __init__(self, judge: RecordJudge) -> None:
        self.judge = judge
        self._memo: dict[str, Verdicts] = {}
        self._fields_by_key = {f.key: f for f in judge.parsed_fields}
        self._order = {f.key: i for i, f in enumerate(judge.parsed_fields)}
        self._age_rules = tuple(
            (key, spec) for key, _, spec in judge.presence if spec.required_from_age is not None
        )
        self._forget()

    def _forget(self) -> None:
        """Start numbering findings afresh (and so drop every known verdict)."""
        self._ids = FindingIds()
        self._values: dict[str, Known] = {}
        self._trusted: dict[str, set[str]] = {}
        self._untrusted: dict[str, set[str]] = {}
        self._births = Known(self._birth_schema())
        self._first_of_year: dict[int, str] = {}
        self._combos: dict[tuple[int, tuple[str, ...]], Known] = {}
        self._add_birth(None)

    def _trim(self) -> None:
        """Keep what is known bounded: a table past ``MEMO_LIMIT`` is dropped (and found
        again as batches need it); past ``ID_LIMIT`` finding sets, everything is."""
        if self._ids.size > ID_LIMIT:
            self._forget()
            return
        for key in [k for k, known in self._values.items() if known.size > MEMO_LIMIT]:
            del self._values[key]
            self._trusted.pop(key, None)
            self._untrusted.pop(key, None)
        for combo in [k for k, known in self._combos.items() if known.size > MEMO_LIMIT]:
            del self._combos[combo]
        if self._births.size > MEMO_LIMIT:
            self._births = Known(self._birth_schema())
            self._add_birth(None)

    # --- one field's values ----------------------------------------------------------------

    def _verdict(self, field: ParsedField, look: object, raw: str, parent: str | None) -> Judged:
        """The memoised verdict on ``raw`` (``look`` is its memo key)."""
        table = self._memo.setdefault(field.key, {})
        found = table.get(look)
        if found is None:
            values = {} if field.parent is None else {field.parent: parent}
            found = self.judge.judge_value(field, raw, values)
            if len(table) >= MEMO_LIMIT:
                table.clear()
            table[look] = found
        return found

    def _current(self, key: str, raw: str | None, before: str) -> str | None:
        """A value as the record holds it when ``before`` is judged: stored once parsed."""
        field = self._fields_by_key.get(key)
        if raw is None or field is None or self._order[key] >= self._order[before]:
            return raw
        judged = self._verdict(field, raw, raw, None)
        return raw if judged[2] else judged[0]

    # --- a batch ---------------------------------------------------------------------------

    def judge_batch(self, batch: pl.DataFrame) -> BatchVerdict:
        """Every row of ``batch``: ``ROW`` and one column per field key in the roster, values
        as the roster readers give them (stripped, "" as null)."""
        self._trim()
        present = [f for f in self.judge.parsed_fields if f.key in batch.columns]
        stand_ins = [(f.key, stand_in(f.spec.kind, pl.col(f.key))) for f in present]
        batch = batch.with_columns(e.alias(f"{k}:~") for k, e in stand_ins if e is not None)
        frame = self._fields(batch, present)
        frame = self._records(frame.lazy(), batch.columns, present)
        return self._verdict_of(frame, present)

    def _fields(self, batch: pl.DataFrame, present: list[ParsedField]) -> pl.DataFrame:
        """Round one: each field's verdict (stored value, finding id, invalid) on every row."""
        columns = set(batch.columns)
        self._classify_stand_ins(batch, present, columns)
        if "ngay_sinh" in columns:
            births = batch.lazy().select(pl.col("ngay_sinh").drop_nulls().unique())
            known_births = self._births.frame.lazy().select(
                pl.col("ngay_sinh:raw").alias("ngay_sinh")
            )
            for (raw,) in (
                births.join(known_births, on="ngay_sinh", how="anti").collect().iter_rows()
            ):
                self._add_birth(raw)
        # Join first on what is known; only fields with rows that found nothing (values no
        # batch had: few once a roster is under way) are looked up, judged and joined again.
        found = pl.collect_all([self._join_field(batch.lazy(), f, columns) for f in present])
        missed = [i for i, part in enumerate(found) if part["miss"].any()]
        lookups: list[pl.LazyFrame] = []
        for i in missed:
            f = present[i]
            keys = _keys(f, columns, self._trusted.get(f.key, set()))
            seen = batch.lazy().select(*keys.values()).filter(pl.col("k").is_not_null()).unique()
            known_keys = self._values[f.key].frame.lazy()
            lookups.append(seen.join(known_keys, on=list(keys), how="anti", nulls_equal=True))
        again: list[pl.LazyFrame] = []
        for i, fresh in zip(missed, pl.collect_all(lookups), strict=True):
            f = present[i]
            rows = [self._value_row(f, *row) for row in fresh.iter_rows()]
            if f.memoised:
                self._values[f.key].add(rows)
                again.append(self._join_field(batch.lazy(), f, columns))
            else:  # values unique to a row (phones, CCCDs not in stored form): not kept
                kept = self._values[f.key]
                extra = pl.DataFrame(rows, schema=kept.schema, orient="row")
                table = pl.concat([kept.frame, extra])
                again.append(self._join_field(batch.lazy(), f, columns, table))
        for i, part in zip(missed, pl.collect_all(again), strict=True):
            found[i] = part
        derived = self._derived(batch.lazy(), columns).collect()
        return pl.concat([batch, *(p.drop("miss") for p in found), derived], how="horizontal")

    def _classify_stand_ins(
        self, batch: pl.DataFrame, present: list[ParsedField], columns: set[str]
    ) -> None:
        """New stand-ins judged: trusted ones join the known values, the others are kept apart
        (their rows are judged value by value)."""
        fields = [f for f in present if f"{f.key}:~" in columns]
        if not fields:
            return
        wanted = [pl.col(f"{f.key}:~").drop_nulls().unique().implode() for f in fields]
        for f, stand_ins in zip(fields, batch.select(wanted).row(0), strict=True):
            trusted = self._trusted.setdefault(f.key, set())
            untrusted = self._untrusted.setdefault(f.key, set())
            known = self._values.get(f.key)
            if known is None:
                known = self._values[f.key] = Known(_value_schema(f))
            rows = []
            for s in stand_ins:
                if s in trusted or s in untrusted:
                    continue
                judged = self._verdict(f, ("~", s), s, None)
                if stands_for_all(f.spec.kind, s, judged):
                    trusted.add(s)
                    rows.append((s, judged[0], self._ids.id(judged[1]), judged[2]))
                else:
                    untrusted.add(s)
            known.add(rows)

    def _value_row(self, f: ParsedField, *key: Any) -> tuple[Any, ...]:
        """A new key's row of the known values: (parent,) key, stored, finding id, invalid."""
        if f.parent is None:
            (raw,) = key
            judged = self._verdict(f, raw, raw, None)
        else:
            parent_raw, raw = key
            parent = self._current(f.parent, parent_raw, f.key)
            judged = self._verdict(f, (parent or "", raw), raw, parent)
        return (*key, judged[0], self._ids.id(judged[1]), judged[2])

    def _join_field(
        self,
        lazy: pl.LazyFrame,
        f: ParsedField,
        columns: set[str],
        table: pl.DataFrame | None = None,
    ) -> pl.LazyFrame:
        """The field's verdict on every row: ``key:v`` (finding id), ``key:b`` (invalid),
        ``key:c`` (the value the record keeps), and ``miss`` (a value not known yet), from what
        is known or from ``table``. Only these columns: joined onto the whole batch, each join
        would copy every column of it."""
        k = f.key
        raw = pl.col(k)
        known = self._values.get(k)
        if known is None:
            known = self._values[k] = Known(_value_schema(f))
        trusted = self._trusted.get(k, set())
        keys = _keys(f, columns, trusted)
        by_stand_in = (
            pl.col(f"{k}:~").is_in(list(trusted)).fill_null(False)
            if f"{k}:~" in columns
            else pl.lit(False)
        )
        lazy = lazy.select(raw, by_stand_in.alias("i"), *keys.values())
        if f.parent is None and table is None:
            kind, found = known.lookup()
            code = pl.col("k").cast(kind, strict=False).to_physical()
            lazy = lazy.with_columns(
                pl.lit(found[c]).gather(code).alias(c) for c in ("s", "v", "b")
            )
        else:
            table = known.frame if table is None else table
            lazy = lazy.join(table.lazy(), on=list(keys), how="left", nulls_equal=True,
                             maintain_order="left")  # fmt: skip
        present = given(raw)
        bad = pl.col("b").fill_null(False)
        return lazy.select(
            pl.when(~present | bad | pl.col("i")).then(raw).otherwise(pl.col("s")).alias(f"{k}:c"),
            pl.when(present).then(pl.col("v")).otherwise(0).alias(f"{k}:v"),
            (present & bad).alias(f"{k}:b"),
            (present & pl.col("v").is_null()).alias("miss"),
        )

    def _birth_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"ngay_sinh:raw": pl.String, "ngay_sinh:year": pl.String,
                                  "ngay_sinh:aged": pl.Boolean}  # fmt: skip
        return schema | {f"{key}:by_age": pl.Boolean for key, _ in self._age_rules}

    def _add_birth(self, raw: str | None) -> None:
        """What the later rules read of a date of birth: the first date seen with the same
        year (the rules across fields read the year only), whether the person is 14 or more,
        whether each field required from an age is required."""
        field = self._fields_by_key.get("ngay_sinh")
        current = raw
        if raw is not None and field is not None:
            judged = self._verdict(field, raw, raw, None)
            current = raw if judged[2] else judged[0]
        born = to_date(current or "")
        rep = current if born is None else self._first_of_year.setdefault(born.year, current or "")
        values = {"ngay_sinh": current}
        needs = [is_required(spec, values, self.judge.today) for _, spec in self._age_rules]
        self._births.add([(raw, rep, self.judge.aged_14(values), *needs)])

    def _derived(self, lazy: pl.LazyFrame, columns: set[str]) -> pl.LazyFrame:
        birth = pl.col("ngay_sinh") if "ngay_sinh" in columns else pl.lit(None, pl.String)
        return (
            lazy.with_columns(birth.alias("ngay_sinh:in")).select("ngay_sinh:in")
            .join(self._births.frame.lazy(), left_on=["ngay_sinh:in"],
                  right_on=["ngay_sinh:raw"], how="left", nulls_equal=True,
                  maintain_order="left")
            .drop("ngay_sinh:in")
        )  # fmt: skip

    def _records(self, lazy: pl.LazyFrame, columns: list[str], present: list[ParsedField]
                 ) -> pl.DataFrame:  # fmt: skip
        """Round two: presence, the rules across fields, the police list."""
        parsed = {f.key for f in present}

        def current(key: str) -> pl.Expr:
            if key in parsed:
                return pl.col(f"{key}:c")
            return pl.col(key) if key in columns else pl.lit(None, pl.String)

        def bad(key: str) -> pl.Expr:
            return pl.col(f"{key}:b") if key in parsed else pl.lit(False)

        exprs: list[pl.Expr] = []
        for key, required, spec in self.judge.presence:
            wanted: pl.Expr = pl.lit(True)
            if not required and spec.required_if is not None:
                condition = spec.required_if
                wanted = (current(condition.field) == condition.equals).fill_null(False)
            elif not required and spec.required_from_age is not None:
                wanted = pl.col(f"{key}:by_age")
            elif not required:
                wanted = pl.lit(False)
            vid = self._ids.id((audit_finding(spec, AuditCode.MISSING),))
            hit = ~given(current(key)) & wanted
            exprs.append(pl.when(hit).then(vid).otherwise(0).cast(pl.Int32).alias(f"!{key}"))
        for i, rule in enumerate(RULES):
            for key in rule.fields:
                if key in parsed or key in columns:
                    projected = cross_projection(key, current(key), rule.fields)
                    exprs.append(projected.alias(f"r{i}:{key}"))
                    exprs.append(bad(key).alias(f"r{i}!{key}"))
        lost = (
            pl.col("so_dinh_danh:v").is_in(self._ids.digits_lost())
            if "so_dinh_danh" in parsed
            else pl.lit(False)
        )
        exprs += [
            pl.col("ngay_sinh:aged").alias("pol:aged"),
            current("quoc_tich").alias("pol:q"),
            is_pin(current("so_dinh_danh")).alias("pol:pin"),
            current("vneid_muc_2").alias("pol:vneid"),
            lost.alias("pol:lost"),
        ]
        keep: list[str | pl.Expr] = [ROW, *(f"{f.key}:{c}" for f in present for c in "vb")]
        keep += [current(k).alias(f"{k}:out") for k in ("so_dinh_danh", "ho_ten")]
        frame = lazy.select(*keep, *exprs).collect()
        return self._rules(frame)

    def _rules(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Each rule's and the police list's verdict, once per combination no batch had."""
        groups: list[tuple[int, list[str]]] = []
        for i, _ in enumerate(RULES):
            cols = [c for c in frame.columns if c.startswith((f"r{i}:", f"r{i}!"))]
            if cols:
                groups.append((i, cols))
        police = ["pol:aged", "pol:q", "pol:pin", "pol:vneid", "pol:lost"]
        groups.append((len(RULES), police))
        tables: list[Known] = []
        for i, cols in groups:
            known = self._combos.get((i, tuple(cols)))
            if known is None:
                out = {f"r{i}:v": pl.Int32} if i < len(RULES) else {
                    "pol:v": pl.Int32, "pol:listed": pl.Boolean}  # fmt: skip
                schema = {c: frame.schema[c] for c in cols} | out
                known = self._combos[(i, tuple(cols))] = Known(schema)
            tables.append(known)
        # As for fields: join on what is known, look up and judge only what found nothing.
        pairs = zip(groups, tables, strict=True)
        joined = pl.collect_all(
            [_narrow_join(frame, cols, known.frame) for (_, cols), known in pairs]
        )
        missed = [n for n, part in enumerate(joined) if part[part.columns[0]].null_count()]
        lookups = []
        for n in missed:
            cols, known = groups[n][1], tables[n]
            seen = frame.lazy().select(cols).unique()
            lookups.append(seen.join(known.frame.lazy(), on=cols, how="anti", nulls_equal=True))
        for n, new in zip(missed, pl.collect_all(lookups), strict=True):
            (i, cols), known = groups[n], tables[n]
            if i < len(RULES):
                known.add([(*combo, self._cross_vid(RULES[i], i, cols, combo))
                           for combo in new.iter_rows()])  # fmt: skip
            else:
                known.add([(*combo, *self._police_verdict(combo)) for combo in new.iter_rows()])
        again = pl.collect_all([_narrow_join(frame, groups[n][1], tables[n].frame)
                                for n in missed])  # fmt: skip
        for n, part in zip(missed, again, strict=True):
            joined[n] = part
        parts = list(joined)
        zero = [pl.lit(0, pl.Int32).alias(f"r{i}:v") for i in range(len(RULES))
                if not any(g == i for g, _ in groups)]  # fmt: skip
        if zero:
            parts.append(frame.select(ROW).with_columns(zero).drop(ROW))
        return pl.concat([frame, *parts], how="horizontal")

    def _police_verdict(self, combo: tuple[Any, ...]) -> tuple[int, bool]:
        aged, nationality, pin, vneid, lost = combo
        values = {
            "quoc_tich": nationality,
            "so_dinh_danh": LOST_PIN if lost else SOME_PIN if pin else None,
            "vneid_muc_2": vneid,
        }
        found: list[Finding] = []
        listed = self.judge.police_check(bool(aged), values, found)
        return self._ids.id(tuple(found)), listed

    def _cross_vid(self, rule: CrossRule, i: int, cols: list[str], combo: tuple[Any, ...]) -> int:
        named = dict(zip(cols, combo, strict=True))
        values = {c.split(":", 1)[1]: v for c, v in named.items() if c.startswith(f"r{i}:")}
        bad = {c.split("!", 1)[1] for c, v in named.items() if c.startswith(f"r{i}!") and v}
        problem = rule.check(values, self.judge.crossref)
        if problem is None:
            return 0
        if not set(problem.fields) <= set(rule.fields):
            raise RuntimeError("a cross-field rule named a field it does not declare")
        if bad and not bad.isdisjoint(problem.fields):
            return 0
        key = problem.fields[0] if problem.fields else ""
        return self._ids.id((problem_finding(self.judge.specs.get(key), key, problem),))

    def _verdict_of(self, frame: pl.DataFrame, present: list[ParsedField]) -> BatchVerdict:
        ids = self._ids
        field_steps = [f"{f.key}:v" for f in present]
        presence = [f"!{key}" for key, _, _ in self.judge.presence]
        steps = [*field_steps, *presence, *(f"r{i}:v" for i in range(len(RULES))), "pol:v"]
        lazy = frame.lazy()
        parts = [
            lazy.select(pl.col(ROW), pl.col(step).alias("vid"), pl.lit(i, pl.Int32).alias("step"))
            .filter(pl.col("vid") != 0)
            for i, step in enumerate(steps)
        ]  # fmt: skip
        findings = (
            pl.concat(parts)
            .join(ids.frame().lazy(), on="vid", how="inner")
            .sort([ROW, "step", "k"])
            .select(ROW, "field", "code", "message", "suggestion")
        )
        unclean = ids.unclean()
        no = pl.lit(False)
        invalid = pl.any_horizontal(*(pl.col(f"{f.key}:b") for f in present), no)
        crossed = pl.any_horizontal(*(pl.col(f"r{i}:v") != 0 for i in range(len(RULES))), no)
        dirty = pl.any_horizontal(*(pl.col(s).is_in(unclean) for s in field_steps), no)
        missing = pl.any_horizontal(*(pl.col(s) != 0 for s in presence), no)
        rows = lazy.select(
            pl.col(ROW),
            (~missing).alias("complete"),
            (~(invalid | crossed)).alias("correct"),
            (~dirty).alias("clean"),
            pl.col("pol:listed").alias("police"),
            pl.col("pol:v").replace_strict(ids.codes(), default=None, return_dtype=pl.String)
            .alias("police_codes"),
            pl.when(pl.col("pol:pin")).then(pl.col("so_dinh_danh:out").cast(pl.Int64))
            .alias("cccd"),
            pl.col("ho_ten:out").alias("ho_ten"),
        )  # fmt: skip
        done_findings, done_rows = pl.collect_all([findings, rows])
        return BatchVerdict(done_findings, done_rows)


def _value_schema(field: ParsedField) -> dict[str, Any]:
    keys = {"p": pl.String, "k": pl.String} if field.parent is not None else {"k": pl.String}
    return keys | {"s": pl.String, "v": pl.Int32, "b": pl.Boolean}


def _keys(field: ParsedField, columns: set[str], trusted: set[str]) -> dict[str, pl.Expr]:
    """The columns a field's value is known by: its parent's value (a ward's province) and the
    value, or the value's stand-in where that stand-in is trusted."""
    raw = pl.col(field.key)
    name = f"{field.key}:~"
    if name in columns:
        if field.parent is not None:
            raise RuntimeError("a value judged by its prefix cannot depend on another")
        stand_in = pl.col(name)
        key = pl.when(stand_in.is_in(list(trusted)).fill_null(False)).then(stand_in)
        return {"k": key.otherwise(raw).alias("k")}
    if field.parent is None:
        return {"k": raw.alias("k")}
    parent = pl.col(field.parent) if field.parent in columns else pl.lit(None, pl.String)
    return {"p": parent.alias("p"), "k": raw.alias("k")}


def _narrow_join(frame: pl.DataFrame, on: list[str], table: pl.DataFrame) -> pl.LazyFrame:
    """``table``'s other columns for each row of ``frame`` by ``on``, in ``frame``'s order."""
    return (
        frame.lazy().select(on)
        .join(table.lazy(), on=on, how="left", nulls_equal=True, maintain_order="left")
        .drop(on)
    )  # fmt: skip
