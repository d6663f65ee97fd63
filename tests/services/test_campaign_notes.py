"""A scenario without [[missions]] gets the built-in ILRS roadmap's campaign, and is told so."""

from __future__ import annotations

from tests.month_scenario import write_month_scenario


def test_a_scenario_without_missions_is_told_its_campaign_is_the_builtin_roadmaps(tmp_path):
    from ilrs.campaign.roadmap import default_roadmap
    from ilrs.services.campaign import campaign_overview
    from ilrs.services.scenarios import validated_scenario

    month = validated_scenario(write_month_scenario(tmp_path / "month.toml"))
    assert not month.missions
    ov = campaign_overview(month, runs=200)
    assert [m.name for m in ov.missions] == [m.name for m in default_roadmap()]
    assert ov.notes[0].startswith(f"{month.name} lists no [[missions]]: the campaign is the built-in ILRS roadmap")
    builtin = campaign_overview(validated_scenario("ilrs-basic-2035"), runs=200)
    assert not any("lists no [[missions]]" in n for n in builtin.notes)
