"""Judging a batch of roster rows column by column, with the findings ``RecordJudge`` makes row
by row.

Why: a city's roster has millions of rows but few distinct values in most columns (a few thousand
dates of birth, 54 ethnic groups, the wards of one city). ``RecordJudge.judge`` spends ~45 µs of
Python on every row; here each distinct value, or each distinct combination a cross-field rule
reads, is judged once by the record judge's own parsers and rules, and polars spreads the verdicts
over the rows. The two audits share every rule, message and order; they could only disagree on
which values count as "the same", so that is kept in one place (the projections below) and
``tests/test_audit_columns.py`` compares them row by row on generated and fuzzed rosters.

Values unique to a row (CCCDs, phones) are not judged one by one when their verdict is decided
by a short prefix: a stored-form CCCD by its first six digits (province, century and gender,
year), a stored-form mobile by its first four, a string of digits by its length. Such a prefix is
judged as a stand-in value; when the stand-in's verdict is not the shape the claim needs (for a
phone: accepted as it is, with no finding), the rows fall back to one verdict per value.

Pure: no file, no database; polars frames in, polars frames out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from bot.roster_frame import ROW
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
from flows.rules.cross import GUARDIAN_FIELDS, RULES, CrossRule
from flows.rules.dates import to_date

#: A stored-form PIN (``flows.rules.cccd.is_cccd``), a stored-form phone, a string of digits.
_PIN = r"^[0-9]{3}[0-3][0-9]{8}$"
_STORED_PHONE = r"^0[1-9][0-9]{8}$"
_DIGITS = r"^[0-9]{1,64}$"
#: What a PIN is replaced by where only its first six digits count.
_PIN_TAIL = "000000"
_SOME_PIN = "0" * 12
_UNCLEAN = frozenset({AuditCode.NOT_NORMALISED, AuditCode.DUPLICATE_ID})

Verdicts = dict[object, Judged]


def _stand_in(kind: str, raw: pl.Expr) -> pl.Expr | None:
    """The stand-in value of a kind whose verdict a prefix (or the length) decides, or None."""
    if kind == "cccd":
        return pl.when(raw.str.contains(_PIN)).then(raw.str.slice(0, 6) + _PIN_TAIL)
    if kind == "phone":
        return pl.when(raw.str.contains(_STORED_PHONE)).then(raw.str.slice(0, 4) + "000000")
    if kind == "digits":
        return pl.when(raw.str.contains(_DIGITS)).then(raw.str.replace_all("[0-9]", "0"))
    return None


def _stands_for_all(kind: str, stand_in: str, judged: Judged) -> bool:
    """Whether the stand-in's verdict holds for every value it stands for.

    A stored-form PIN's own checks (century digit, year not in the future, province prefix)
    read its first six digits, and a string of digits is judged by its length, so any verdict
    that keeps the value as it is holds. A stored-form phone is decided by its prefix only when
    that prefix is a mobile one (``flows.rules.phones._mobile_prefix``): then it is accepted as
    it is; anything else goes through ``phonenumbers`` with all its digits.
    """
    if kind == "phone":
        return judged == (stand_in, (), False)
    return judged[0] in (None, stand_in)


def _stand_in_column(field: ParsedField, columns: set[str]) -> pl.Expr | None:
    """The batch's column of the field's stand-ins (``judge_batch`` adds it), if it has one."""
    name = f"{field.key}:~"
    return pl.col(name) if name in columns else None


def _is_pin(column: pl.Expr) -> pl.Expr:
    """``flows.rules.cccd.is_cccd`` of each value (the same expression each time, so polars
    computes it once per query)."""
    return column.str.contains(_PIN).fill_null(False)


class FindingIds:
    """Finding tuples numbered per batch (0 = no finding), and the frame that lists them."""

    def __init__(self) -> None:
        self._ids: dict[tuple[Finding, ...], int] = {(): 0}

    def id(self, findings: tuple[Finding, ...]) -> int:
        found = self._ids.get(findings)
        if found is None:
            found = self._ids[findings] = len(self._ids)
        return found

    def frame(self) -> pl.DataFrame:
        """(vid, k, field, code, message) for every numbered finding."""
        rows = [
            (number, i, f.field, str(f.code), f.message)
            for findings, number in self._ids.items()
            for i, f in enumerate(findings)
        ]
        schema = {"vid": pl.Int32, "k": pl.Int32, "field": pl.String, "code": pl.String,
                  "message": pl.String}  # fmt: skip
        return pl.DataFrame(rows, schema=schema, orient="row")

    def unclean(self) -> list[int]:
        """Ids whose findings make a record not "sạch"."""
        return [n for fs, n in self._ids.items() if any(f.code in _UNCLEAN for f in fs)]

    def codes(self) -> dict[int, str]:
        """Id -> its findings' codes joined with ","."""
        return {n: ",".join(str(f.code) for f in fs) for fs, n in self._ids.items() if n}


@dataclass(frozen=True)
class BatchVerdict:
    """A batch judged: its findings in report order, and per row what the summary needs.

    ``findings``: ROW, field, code, message. ``rows``: ROW, complete, correct, clean, police,
    police_codes (the police findings' codes joined with ",", null when not listed), cccd
    (Int64 of a valid stored PIN, else null), ho_ten (the stored name, else what was typed).
    """

    findings: pl.DataFrame
    rows: pl.DataFrame


_VERDICT_SCHEMA = {"stored": pl.String, "vid": pl.Int32, "bad": pl.Boolean}


class ColumnJudge:
    """``RecordJudge`` over batches of rows; its memo of verdicts lives as long as the judge.

    A batch takes two rounds: every field's distinct values are judged (and joined back), then
    every rule's distinct combinations of what it reads (and the police list's); each round is
    one polars query to find the distinct values and one to spread the verdicts.
    """

    def __init__(self, judge: RecordJudge) -> None:
        self.judge = judge
        self._memo: dict[str, Verdicts] = {}
        self._order = {f.key: i for i, f in enumerate(judge.parsed_fields)}
        self._age_rules = tuple(
            (key, spec) for key, _, spec in judge.presence if spec.required_from_age is not None
        )

    # --- one field's values ----------------------------------------------------------------

    def _verdict(self, field: ParsedField, look: object, raw: str, parent: str | None) -> Judged:
        """The memoised verdict on ``raw`` (``look`` is its memo key)."""
        table = self._memo.setdefault(field.key, {})
        found = table.get(look)
        if found is None:
            found = self._judge(field, raw, parent)
            if len(table) >= MEMO_LIMIT:
                table.clear()
            table[look] = found
        return found

    def _judge(self, field: ParsedField, raw: str, parent: str | None) -> Judged:
        values = {} if field.parent is None else {field.parent: parent}
        return self.judge.judge_value(field, raw, values)

    def _current(self, key: str, raw: str | None, verdicts: Mapping[str, dict[Any, Judged]],
                 before: str) -> str | None:  # fmt: skip
        """A value as the record holds it when ``before`` is judged: stored once parsed."""
        if raw is None or self._order.get(key, len(self._order)) >= self._order[before]:
            return raw
        judged = verdicts[key].get(raw)
        return raw if judged is None or judged[2] else judged[0]

    # --- a batch ---------------------------------------------------------------------------

    def judge_batch(self, batch: pl.DataFrame) -> BatchVerdict:
        """Every row of ``batch`` (``ROW`` and one column per field key in the roster)."""
        ids = FindingIds()
        present = [f for f in self.judge.parsed_fields if f.key in batch.columns]
        stand_ins = [(f.key, _stand_in(f.spec.kind, pl.col(f.key))) for f in present]
        batch = batch.with_columns(e.alias(f"{k}:~") for k, e in stand_ins if e is not None)
        frame = self._fields(batch, present, ids)
        frame = self._records(frame.lazy(), batch.columns, present, ids)
        return self._verdict_of(frame, present, ids)

    def _fields(self, batch: pl.DataFrame, present: list[ParsedField], ids: FindingIds
                ) -> pl.DataFrame:  # fmt: skip
        """Round one: each field's verdict (stored value, finding id, invalid) on every row."""
        columns = set(batch.columns)
        wanted: list[pl.Expr] = []
        for f in present:
            raw = pl.col(f.key)
            stand_in = _stand_in_column(f, columns)
            if f.parent is not None:
                if stand_in is not None:
                    raise RuntimeError("a value judged by its prefix cannot depend on another")
                parent = pl.col(f.parent) if f.parent in columns else pl.lit(None, pl.String)
                pair = pl.struct(parent.alias("p"), raw.alias("r")).filter(_given(raw))
                wanted.append(pair.unique().implode().alias(f.key))
                continue
            given = _given(raw)
            if stand_in is not None:
                wanted.append(stand_in.drop_nulls().unique().implode().alias(f"{f.key}:~"))
                given = given & stand_in.is_null()
            wanted.append(raw.filter(given).unique().implode().alias(f.key))
        distinct = batch.select(wanted).row(0, named=True) if wanted else {}
        verdicts: dict[str, dict[Any, Judged]] = {}
        parts: list[pl.LazyFrame] = []
        for f in present:
            found = verdicts[f.key] = {}
            stand_ins: list[str] = distinct.get(f"{f.key}:~") or []
            trusted: list[str] = []
            untrusted: list[str] = []
            for s in stand_ins:
                judged = self._verdict(f, ("~", s), s, None)
                if _stands_for_all(f.spec.kind, s, judged):
                    trusted.append(s)
                    found[s] = judged
                else:
                    untrusted.append(s)
            raws: list[Any] = distinct[f.key]
            if untrusted:
                stand_in = pl.col(f"{f.key}:~")
                more = batch.select(pl.col(f.key).filter(stand_in.is_in(untrusted)).unique())
                raws = [*raws, *more.to_series().to_list()]
            if f.parent is None:
                for r in raws:
                    found[r] = (
                        self._verdict(f, r, r, None) if f.memoised else self._judge(f, r, None)
                    )
                table = self._table(f.key, [(k, *v[:1], ids.id(v[1]), v[2]) for k, v in
                                            found.items()], with_parent=False)  # fmt: skip
            else:
                rows = []
                for pair in raws:
                    p = self._current(f.parent, pair["p"], verdicts, f.key)
                    judged = self._verdict(f, (p or "", pair["r"]), pair["r"], p)
                    found[(pair["p"], pair["r"])] = judged
                    rows.append((pair["p"], pair["r"], judged[0], ids.id(judged[1]), judged[2]))
                table = self._table(f.key, rows, with_parent=True)
            parts.append(self._join_field(batch.lazy(), f, table, trusted, columns))
        parts.append(self._derived(batch.lazy(), verdicts, columns))
        return pl.concat([batch, *pl.collect_all(parts)], how="horizontal")

    @staticmethod
    def _table(key: str, rows: list[tuple[Any, ...]], *, with_parent: bool) -> pl.DataFrame:
        schema: dict[str, Any] = {f"{key}:p": pl.String} if with_parent else {}
        schema |= {f"{key}:k": pl.String, **{f"{key}:{c[0]}": t for c, t in
                                               _VERDICT_SCHEMA.items()}}  # fmt: skip
        return pl.DataFrame(rows, schema=schema, orient="row")

    @staticmethod
    def _join_field(lazy: pl.LazyFrame, f: ParsedField, table: pl.DataFrame, trusted: list[str],
                    columns: set[str]) -> pl.LazyFrame:  # fmt: skip
        """The field's verdict on every row: ``key:v`` (finding id), ``key:b`` (invalid) and
        ``key:c`` (the value the record keeps). Only these columns: joined onto the whole batch,
        each join would copy every column of it."""
        k = f.key
        raw = pl.col(k)
        if f.parent is not None:  # literals broadcast in with_columns, not in select
            parent = pl.col(f.parent) if f.parent in columns else pl.lit(None, pl.String)
            lazy = lazy.with_columns(parent.alias(f"{k}:parent")).select(k, f"{k}:parent")
        else:
            lazy = lazy.select(k, *([f"{k}:~"] if f"{k}:~" in columns else []))
        stand_in = _stand_in_column(f, columns)
        by_stand_in = pl.lit(False)
        if stand_in is not None:
            by_stand_in = stand_in.is_in(trusted).fill_null(False)
            lazy = lazy.with_columns(
                pl.when(by_stand_in).then(stand_in).otherwise(raw).alias(f"{k}:key"),
                by_stand_in.alias(f"{k}:i"),
            )
            left: list[pl.Expr | str] = [f"{k}:key"]
            by_stand_in = pl.col(f"{k}:i")
        elif f.parent is not None:
            left = [f"{k}:parent", k]
        else:
            left = [k]
        right = [f"{k}:p", f"{k}:k"] if f.parent is not None else [f"{k}:k"]
        lazy = lazy.join(
            table.lazy(), left_on=left, right_on=right, how="left", nulls_equal=True,
            maintain_order="left",
        )  # fmt: skip
        present = _given(raw)
        bad = pl.col(f"{k}:b").fill_null(False)
        return lazy.select(
            pl.when(~present | bad | by_stand_in).then(raw)
            .otherwise(pl.col(f"{k}:s")).alias(f"{k}:c"),
            pl.when(present).then(pl.col(f"{k}:v")).otherwise(0).alias(f"{k}:v"),
            (present & bad).alias(f"{k}:b"),
        )  # fmt: skip

    def _derived(self, lazy: pl.LazyFrame, verdicts: Mapping[str, dict[Any, Judged]],
                 columns: set[str]) -> pl.LazyFrame:  # fmt: skip
        """What the later rules read of the date of birth, decided once per distinct date: the
        first date of the batch with the same year (the rules across fields read the year only),
        whether the person is 14 or more, whether each field required from an age is required."""
        judge, today = self.judge, self.judge.today
        births: dict[str | None, str | None] = {None: None}
        if "ngay_sinh" in columns:
            for raw, judged in verdicts.get("ngay_sinh", {}).items():
                births[raw] = raw if judged[2] else judged[0]
        first_of_year: dict[int, str] = {}
        rows = []
        for raw, current in births.items():
            born = to_date(current or "")
            rep = current if born is None else first_of_year.setdefault(born.year, current or "")
            values = {"ngay_sinh": current}
            needs = [is_required(spec, values, today) for _, spec in self._age_rules]
            rows.append((raw, rep, judge.aged_14(values), *needs))
        schema: dict[str, Any] = {"ngay_sinh:raw": pl.String, "ngay_sinh:year": pl.String,
                                  "ngay_sinh:aged": pl.Boolean}  # fmt: skip
        schema |= {f"{key}:by_age": pl.Boolean for key, _ in self._age_rules}
        table = pl.DataFrame(rows, schema=schema, orient="row")
        birth = pl.col("ngay_sinh") if "ngay_sinh" in columns else pl.lit(None, pl.String)
        birth = pl.when(_given(birth)).then(birth)  # a blank date reads as none
        return (
            lazy.with_columns(birth.alias("ngay_sinh:in")).select("ngay_sinh:in")
            .join(table.lazy(), left_on=["ngay_sinh:in"], right_on=["ngay_sinh:raw"],
                  how="left", nulls_equal=True, maintain_order="left")
            .drop("ngay_sinh:in")
        )  # fmt: skip

    def _records(self, lazy: pl.LazyFrame, columns: list[str], present: list[ParsedField],
                 ids: FindingIds) -> pl.DataFrame:  # fmt: skip
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
            vid = ids.id((audit_finding(spec, AuditCode.MISSING),))
            hit = ~_given(current(key)) & wanted
            exprs.append(pl.when(hit).then(vid).otherwise(0).cast(pl.Int32).alias(f"!{key}"))
        for i, rule in enumerate(RULES):
            for key in rule.fields:
                if key in parsed or key in columns:
                    exprs.append(_projection(key, current(key)).alias(f"r{i}:{key}"))
                    exprs.append(bad(key).alias(f"r{i}!{key}"))
        exprs += [
            pl.col("ngay_sinh:aged").alias("pol:aged"),
            current("quoc_tich").alias("pol:q"),
            _is_pin(current("so_dinh_danh")).alias("pol:pin"),
            current("vneid_muc_2").alias("pol:vneid"),
        ]
        keep: list[str | pl.Expr] = [ROW, *(f"{f.key}:{c}" for f in present for c in "vb")]
        keep += [current(k).alias(f"{k}:out") for k in ("so_dinh_danh", "ho_ten")]
        frame = lazy.select(*keep, *exprs).collect()
        return self._rules(frame, ids)

    def _rules(self, frame: pl.DataFrame, ids: FindingIds) -> pl.DataFrame:
        """Each rule's and the police list's verdict, once per distinct combination."""
        groups: list[list[str]] = []
        for i, _ in enumerate(RULES):
            groups.append([c for c in frame.columns if c.startswith((f"r{i}:", f"r{i}!"))])
        police = ["pol:aged", "pol:q", "pol:pin", "pol:vneid"]
        wanted = [
            pl.struct(cols).unique().implode().alias(f"g{i}")
            for i, cols in enumerate(groups)
            if cols
        ]
        wanted.append(pl.struct(police).unique().implode().alias("police"))
        distinct = frame.select(wanted).row(0, named=True)
        parts: list[pl.LazyFrame] = []
        for i, rule in enumerate(RULES):
            cols = groups[i]
            if not cols:
                none = pl.lit(0, pl.Int32).alias(f"r{i}:v")
                parts.append(frame.lazy().select(ROW).with_columns(none).drop(ROW))
                continue
            rows = [(*combo.values(), self._cross_vid(rule, i, combo, ids))
                    for combo in distinct[f"g{i}"]]  # fmt: skip
            types: dict[str, Any] = {c: frame.schema[c] for c in cols} | {f"r{i}:v": pl.Int32}
            table = pl.DataFrame(rows, schema=types, orient="row")
            parts.append(_narrow_join(frame, cols, table))
        rows = []
        for combo in distinct["police"]:
            found: list[Finding] = []
            values = {
                "quoc_tich": combo["pol:q"],
                "so_dinh_danh": _SOME_PIN if combo["pol:pin"] else None,
                "vneid_muc_2": combo["pol:vneid"],
            }
            listed = self.judge.police_check(bool(combo["pol:aged"]), values, found)
            rows.append((*combo.values(), ids.id(tuple(found)), listed))
        schema: dict[str, Any] = {c: frame.schema[c] for c in police} | {
            "pol:v": pl.Int32,
            "pol:listed": pl.Boolean,
        }
        table = pl.DataFrame(rows, schema=schema, orient="row")
        parts.append(_narrow_join(frame, police, table))
        return pl.concat([frame, *pl.collect_all(parts)], how="horizontal")

    def _cross_vid(self, rule: CrossRule, i: int, combo: Mapping[str, Any], ids: FindingIds
                   ) -> int:  # fmt: skip
        values = {c.split(":", 1)[1]: v for c, v in combo.items() if c.startswith(f"r{i}:")}
        bad = {c.split("!", 1)[1] for c, v in combo.items() if c.startswith(f"r{i}!") and v}
        problem = rule.check(values, self.judge.crossref)
        if problem is None:
            return 0
        if not set(problem.fields) <= set(rule.fields):
            raise RuntimeError("a cross-field rule named a field it does not declare")
        if bad and not bad.isdisjoint(problem.fields):
            return 0
        key = problem.fields[0] if problem.fields else ""
        return ids.id((problem_finding(self.judge.specs.get(key), key, problem),))

    def _verdict_of(self, frame: pl.DataFrame, present: list[ParsedField], ids: FindingIds
                    ) -> BatchVerdict:  # fmt: skip
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
            .select(ROW, "field", "code", "message")
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


def _given(value: pl.Expr) -> pl.Expr:
    """A value the record judge reads as given. Batches hold values as the roster readers give
    them (stripped, "" as null), so that is one that is not null."""
    return value.is_not_null()


def _narrow_join(frame: pl.DataFrame, on: list[str], table: pl.DataFrame) -> pl.LazyFrame:
    """``table``'s other columns for each row of ``frame`` by ``on``, in ``frame``'s order."""
    return (
        frame.lazy().select(on)
        .join(table.lazy(), on=on, how="left", nulls_equal=True, maintain_order="left")
        .drop(on)
    )  # fmt: skip


def _projection(key: str, value: pl.Expr) -> pl.Expr:
    """What the rules across fields read of a column: a PIN's first six digits, a date of
    birth's year (``ngay_sinh:year``), whether a guardian's name or phone is there; other
    columns as they are. ``tests/test_audit_columns.py`` holds the rules to this."""
    if key == "so_dinh_danh":
        return pl.when(_is_pin(value)).then(value.str.slice(0, 6) + _PIN_TAIL)
    if key == "ngay_sinh":
        return pl.col("ngay_sinh:year")
    if key in GUARDIAN_FIELDS:
        return pl.when(value.is_not_null() & (value != "")).then(pl.lit("x"))  # truthy
    return value
