"""Every ingest shows how each source column was mapped, and suggests what an unused column of dates might be."""

from __future__ import annotations

from datetime import date, timedelta

from loaders.pipeline import IngestOptions
from loaders.service import ingest_files
from tests.conftest import CPA, PARTNER, PRIME
from tests.hostile import table

OPTIONS = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03", dry_run=True)
START = date(2013, 1, 7)


def file_with(tmp_path, extra_header: str, extra_values):
    rows = [[f"P{i:04d}", "PG1", START + timedelta(days=i), v] for i, v in enumerate(extra_values, 1)]
    return table(tmp_path / "cms.xlsx", rows, ["Ref", "PG", "Referred", extra_header])


def problems(result, code: str) -> list[str]:
    return [p.message for p in result.problems if p.code == code]


def test_the_mapping_note_names_each_source_column_its_field_how_and_samples(engine, tmp_path):
    path = file_with(tmp_path, "Notes", ["called", "left message", "no answer"])
    result = ingest_files(engine, [(path.name, path)], OPTIONS)[0]
    (note,) = problems(result, "column_mapping")
    assert "'Ref' -> participant_ref (synonym; e.g. P0001, P0002, P0003)" in note
    assert "'Referred' -> referral_date" in note and "e.g. 2013-01-08, 2013-01-09, 2013-01-10" in note
    assert "'Notes' ignored (e.g. called, left message, no answer)" in note


def test_an_unused_column_of_dates_after_referral_is_suggested_with_the_map_that_takes_it(engine, tmp_path):
    outcomes = [START + timedelta(days=200 + i) for i in range(22)]
    path = file_with(tmp_path, "Outcome", outcomes)
    result = ingest_files(engine, [(path.name, path)], OPTIONS)[0]
    (suggestion,) = problems(result, "unmatched_column")
    assert "column 'Outcome' (22 dates) was not used; it might be job_outcome_date" in suggestion
    assert 'add --map "Outcome=job_outcome_date"' in suggestion
    assert "unmatched_column" in {p.code for p in result.warnings}


def test_a_column_of_text_is_not_suggested(engine, tmp_path):
    path = file_with(tmp_path, "Notes", ["called"] * 5)
    result = ingest_files(engine, [(path.name, path)], OPTIONS)[0]
    assert problems(result, "unmatched_column") == []


def test_map_takes_an_unrecognised_column_and_its_counts_land(engine, tmp_path, db_url):
    from sqlalchemy import text

    from loaders.cli import main

    outcomes = [START + timedelta(days=200 + i) for i in range(22)]
    path = file_with(tmp_path, "Outcome", outcomes)
    sender = ["--partner", PARTNER, "--prime", PRIME, "--cpa", str(CPA), "--period", "2013-12", "-q"]
    assert main(["ingest", str(path), "--db", db_url, *sender, "--map", "Outcome=job_outcome_date"]) == 0
    with engine.connect() as conn:
        landed = conn.execute(text("SELECT COUNT(job_outcome_date) FROM participant")).scalar()
    assert landed == 22


def test_a_map_without_an_equals_sign_is_a_usage_error(tmp_path, db_url):
    from loaders.cli import main

    path = file_with(tmp_path, "Outcome", [START])
    assert main(["ingest", str(path), "--db", db_url, "--map", "Outcome", "-q"]) == 2


def test_the_data_page_shows_the_mapping_and_checks_again_with_a_chosen_field(engine, db_url, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    outcomes = [START + timedelta(days=200 + i) for i in range(22)]
    data = file_with(tmp_path, "Outcome", outcomes).read_bytes()
    monkeypatch.setenv("WPMI_DB_URL", db_url)
    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=120).run()
    at.file_uploader(key="uploads").upload("cms.xlsx", data, "application/octet-stream").run()
    at.text_input(key="up_partner").input(PARTNER)
    at.text_input(key="up_prime").input(PRIME)
    at.number_input(key="up_cpa").set_value(CPA)
    at.text_input(key="up_period").input("2013-12")
    at.toggle(key="up_dry").set_value(True)
    at.button(key="up_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    mapping = next(df.value for df in at.dataframe if "column in the file" in df.value.columns)
    assert dict(zip(mapping["column in the file"], mapping["wpmi field"]))["Outcome"] == "(not used)"
    at.selectbox(key="map|cms.xlsx|Participants|Outcome").set_value("job_outcome_date").run()
    saved = [d for d in at.get("download_button") if "layout profile" in d.proto.label]
    assert len(saved) == 1 and "(.toml)" in saved[0].proto.label
    at.button(key="up_remap").click().run()
    assert not at.exception, [e.value for e in at.exception]
    mapping = next(df.value for df in at.dataframe if "column in the file" in df.value.columns)
    assert dict(zip(mapping["column in the file"], mapping["wpmi field"]))["Outcome"] == "job_outcome_date"
    report = " ".join(df.value.to_csv() for df in at.dataframe)
    assert "unmatched_column" not in report


def test_a_profile_can_require_a_measure_and_a_file_without_it_is_rejected(engine, tmp_path):
    from loaders.profiles import user_layouts

    folder = tmp_path / "layouts"
    folder.mkdir()
    (folder / "cms.toml").write_text(
        'name = "cms"\nrequire = ["job_outcome_date"]\n\n[[sheets]]\ntarget = "Participants"\n'
        'columns = { participant_ref = ["Ref"], payment_group = ["PG"], referral_date = ["Referred"] }\n'
    )
    path = file_with(tmp_path, "Notes", ["called"] * 3)
    with user_layouts(folder):
        result = ingest_files(engine, [(path.name, path)], OPTIONS)[0]
    assert result.layout == "cms" and result.status == "rejected"
    assert "has no column for job_outcome_date" in problems(result, "required_not_reported")[0]


def test_a_misspelt_required_field_in_a_profile_is_an_error_naming_the_nearest():
    from loaders.profiles import check_profile

    problems_found = check_profile(
        {"name": "x", "require": ["job_outcome_dat"], "sheets": [{"target": "Participants"}]}
    )
    (problem,) = problems_found
    assert problem.startswith("require: 'job_outcome_dat' is not a field a file may leave out; did you mean ")
    assert "'job_outcome_date'" in problem


def test_the_mapping_saved_as_a_profile_reads_the_senders_next_file_without_choosing_again(engine, tmp_path):
    from sqlalchemy import text

    from loaders.mapping import profile_name, profile_toml
    from loaders.profiles import check_profile_file, user_layouts

    outcomes = [START + timedelta(days=200 + i) for i in range(22)]
    path = file_with(tmp_path, "Outcome", outcomes)
    checked = ingest_files(engine, [(path.name, path)], OPTIONS)[0]
    name = profile_name(PARTNER, path.name)
    folder = tmp_path / "layouts"
    folder.mkdir()
    saved = folder / f"{name}.toml"
    saved.write_text(profile_toml(name, "from the Data page", checked.columns, {"Outcome": "job_outcome_date"}))
    assert check_profile_file(saved) == []
    loaded_options = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-12")
    with user_layouts(folder):
        result = ingest_files(engine, [(path.name, path)], loaded_options)[0]
    assert result.status == "loaded" and result.layout == name == "tyneside_pathways_trust_cms"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(job_outcome_date) FROM participant")).scalar() == 22
