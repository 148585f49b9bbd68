"""The taxonomy is data: police.uk's 14 crime types + ASB, the town-centre partnership hierarchy,
fire categories and named groups; unrecognised categories are kept as Unknown."""

import pandas as pd
import pytest

from hotspot_app.core import schema, taxonomy
from hotspot_app.core.errors import InputError

POLICE_UK = [
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs",
    "Other crime", "Other theft", "Possession of weapons", "Public order", "Robbery",
    "Shoplifting", "Theft from the person", "Vehicle crime", "Violence and sexual offences",
]
# Seed 004 (Billingham Central table), in the order the partnership prints it.
SEED_004 = {
    "Victim Based Crime/Violence": ["Violence Without Injury", "Stalking and Harassment",
                                    "Violence With Injury",
                                    "Death or serious injury caused by illegal driving", "Homicide"],
    "Victim Based Crime/Theft Offences": ["Vehicle Offences", "Shoplifting", "All Other Theft Offences",
                                          "Burglary Residential", "Burglary Business and Community",
                                          "Bicycle Theft", "Theft From The Person"],
    "Victim Based Crime/Criminal Damage & Arson": ["Criminal Damage", "Arson"],
    "Victim Based Crime": ["Sexual Offences", "Robbery"],
    "Non victim based": ["Public Order Offences", "Misc Crimes Against Society", "Drug Offences",
                         "Weapons Possession Offences"],
}
FIRE = ["Deliberate primary fire", "Deliberate secondary fire", "Accidental primary fire",
        "Accidental secondary fire", "Fire (cause not known)", "False alarm", "Special service"]


def test_police_uk_types_are_all_known_with_asb_as_its_own_kind():
    cls = taxonomy.classify(POLICE_UK)
    assert cls["category"].tolist() == POLICE_UK
    assert (cls["group"] != taxonomy.UNKNOWN).all()
    kinds = dict(zip(cls["category"], cls["kind"]))
    assert kinds.pop("Anti-social behaviour") == "asb"
    assert set(kinds.values()) == {"crime"}


def test_seed_004_hierarchy_places_every_leaf_under_its_parent():
    for parent, leaves in SEED_004.items():
        cls = taxonomy.classify(leaves)
        assert cls["group"].tolist() == [parent] * len(leaves), parent
        assert set(cls["kind"]) == {"crime"}


def test_names_match_case_and_ampersand_insensitively_and_canonicalise():
    cls = taxonomy.classify(["violence WITH injury", "Stalking & Harassment", " shoplifting ", "F3", "asb"])
    assert cls["category"].tolist() == ["Violence With Injury", "Stalking and Harassment",
                                        "Shoplifting", "Deliberate secondary fire", "Anti-social behaviour"]


def test_unrecognised_and_empty_categories_are_kept_as_unknown():
    cls = taxonomy.classify(["Cyber flashing", "", None], default_kind="crime")
    assert cls["category"].tolist() == ["Cyber flashing", "Unknown", "Unknown"]
    assert cls["group"].tolist() == ["Unknown"] * 3
    assert cls["kind"].tolist() == ["crime"] * 3


def _incidents(categories):
    return schema.make_incidents(pd.DataFrame({
        "category": categories, "month": ["2024-01"] * len(categories),
        "x": [450000.0] * len(categories), "y": [515000.0] * len(categories)}))


def test_named_groups_select_the_right_incidents():
    cats = ["Deliberate primary fire", "Deliberate secondary fire", "Accidental primary fire",
            "Burglary Residential", "Burglary Business and Community", "Theft from the person",
            "Vehicle crime", "Anti-social behaviour", "Something new"]
    inc = _incidents(cats)

    def chosen(sel):
        return inc.loc[taxonomy.select(inc, sel), "category"].tolist()

    assert chosen("deliberate-fires") == cats[:2]
    assert chosen("deliberate-primary-fires") == cats[:1]
    assert chosen("deliberate-secondary-fires") == cats[1:2]
    assert chosen("neighbourhood-crime") == ["Burglary Residential", "Theft from the person", "Vehicle crime"]
    assert chosen("asb") == ["Anti-social behaviour"]
    # `crime` is by kind: the unrecognised crime category is included, fires and ASB are not.
    assert chosen("crime") == cats[3:7] + ["Something new"]
    assert chosen("Unknown") == ["Something new"]
    assert chosen("Theft Offences") == cats[3:7]
    assert chosen(["asb", "F1"]) == ["Deliberate primary fire", "Anti-social behaviour"]
    assert chosen(None) == cats


def test_unknown_selection_names_the_parameter_and_the_choices():
    with pytest.raises(InputError) as err:
        taxonomy.select(_incidents(["Drugs"]), "burglaries")
    assert err.value.parameter == "category"
    assert "deliberate-fires" in str(err.value) and "\n" not in str(err.value)


def test_fire_categories_are_fire_kind():
    cls = taxonomy.classify(FIRE)
    assert cls["category"].tolist() == FIRE and set(cls["kind"]) == {"fire"}


def test_detect_picks_the_taxonomy_of_the_data():
    assert taxonomy.detect(POLICE_UK) == "police-uk"
    assert taxonomy.detect(["Violence With Injury", "Shoplifting", "Drug Offences"]) == "home-office"


# Force-export labels (the performance paper) and ASB incident codes: recognised as data (taxonomy.csv), each
# on its node, never Unknown; ASB codes are kind asb, never crime.
FORCE_LABELS = [
    ("Domestic Burglary", "Burglary Residential", "Victim Based Crime/Theft Offences", "crime"),
    ("Other Burglary", "Burglary Business and Community", "Victim Based Crime/Theft Offences", "crime"),
    ("Vehicle Crime (Inc Inter.)", "Vehicle Offences", "Victim Based Crime/Theft Offences", "crime"),
    ("Robbery \u2013 Personal", "Robbery - Personal", "Victim Based Crime", "crime"),
    ("Robbery - Personal", "Robbery - Personal", "Victim Based Crime", "crime"),
    ("Robbery - Business", "Robbery - Business", "Victim Based Crime", "crime"),
    ("Robbery \u2013 Business", "Robbery - Business", "Victim Based Crime", "crime"),
    ("Other Theft", "Other theft", "Victim Based Crime/Theft Offences", "crime"),
    ("Public Disorder", "Public Order Offences", "Non victim based", "crime"),
    ("Trafficking of drugs", "Trafficking of drugs", "Non victim based", "crime"),
    ("Possession/Use of drugs", "Possession/Use of drugs", "Non victim based", "crime"),
    ("Crime Prevented/Disrupted", "Crime Prevented/Disrupted", "Non victim based", "crime"),
    ("Other State based/Non Victim", "Other State based/Non Victim", "Non victim based", "crime"),
    ("Fraud & Forgery", "Fraud & Forgery", "Non victim based", "crime"),
    ("Violence against the person", "Violence against the person", "Victim Based Crime/Violence", "crime"),
    ("Acquisitive Crime", "Acquisitive Crime", "Victim Based Crime/Theft Offences", "crime"),
    ("AS21 - Personal", "ASB Personal", "Anti-social behaviour", "asb"),
    ("AS22 - Nuisance", "ASB Nuisance", "Anti-social behaviour", "asb"),
    ("AS23 - Environmental", "ASB Environmental", "Anti-social behaviour", "asb"),
    ("AS22 \u2013 Nuisance", "ASB Nuisance", "Anti-social behaviour", "asb"),
]


@pytest.mark.parametrize("label, category, group, kind", FORCE_LABELS)
def test_force_export_label_is_recognised(label, category, group, kind):
    cls = taxonomy.classify([label])
    assert cls.iloc[0].tolist() == [category, group, kind]


def test_asb_codes_are_never_in_the_crime_total_or_group():
    inc = _incidents(["AS21 - Personal", "AS22 - Nuisance", "AS23 - Environmental", "Domestic Burglary"])
    assert inc.loc[taxonomy.select(inc, "crime"), "category"].tolist() == ["Burglary Residential"]
    assert taxonomy.select(inc, "asb").sum() == 3


def test_personal_robbery_is_neighbourhood_crime_business_robbery_is_not():
    inc = _incidents(["Robbery - Personal", "Robbery - Business", "Domestic Burglary", "Other Burglary"])
    assert inc.loc[taxonomy.select(inc, "neighbourhood-crime"), "category"].tolist() == [
        "Robbery - Personal", "Burglary Residential"]


def test_coarse_police_uk_categories_carry_caveats_and_cannot_give_finer_rows():
    caveats = taxonomy.caveats(["Burglary", "Robbery", "Shoplifting", "Criminal damage and arson"])
    assert len(caveats) == 3
    assert caveats[0].startswith('police.uk "Burglary" includes business and community burglary')
    assert "arson cannot be counted apart" in caveats[1]
    police = ["Burglary", "Shoplifting", "Criminal damage and arson", "Violence and sexual offences"]
    assert taxonomy.indistinct(["Burglary Residential", "Arson", "Shoplifting", "Violence With Injury"], police) \
        == ["Burglary Residential", "Arson", "Violence With Injury"]
    force = ["Domestic Burglary", "Shoplifting", "Violence With Injury"]
    assert taxonomy.indistinct(["Arson", "Burglary"], taxonomy.classify(force)["category"]) == ["Burglary"]


def test_selection_label_is_one_name_per_selection():
    from hotspot_app.core.taxonomy import selection_label

    assert selection_label(["asb", "Anti-social behaviour"]) == "ASB"  # not "ASB and Anti-social behaviour"
    assert selection_label(["Anti-social behaviour", "ASB"]) == "ASB"
    assert selection_label(["crime", "deliberate-fires"]) == "crime and deliberate fires"
    assert selection_label(["deliberate-primary-fires", "deliberate-fires"]) == "deliberate fires"
    assert selection_label("Violence,Violence With Injury") == "Violence"
    assert selection_label(["Shoplifting", "burglary", "asb"]) == "Shoplifting, Burglary and ASB"
    assert selection_label(None) == "incidents"
    assert selection_label([], everything="recorded incidents", capital=True) == "Recorded incidents"
    assert selection_label(["deliberate-secondary-fires"], capital=True) == "Deliberate secondary fires (F3)"


def test_a_data_category_absent_from_a_pushed_down_read_selects_nothing_when_loaded_elsewhere():
    """A read with the months pushed in may lack a category that other months hold: named with
    `known` (the summary of everything loaded) it selects no row there instead of being refused;
    a name nothing loaded holds is still refused."""
    read = pd.DataFrame({"kind": ["crime", "crime"], "category": ["Burglary", "Shoplifting"],
                         "group": ["Theft/Burglary", "Theft/Shoplifting"]})
    known = pd.DataFrame({"kind": ["crime", "crime"], "category": ["Burglary", "Widget misuse"],
                          "group": ["Theft/Burglary", taxonomy.UNKNOWN]})
    assert taxonomy.select(read, ["Widget misuse", "Burglary"], known=known).tolist() == [True, False]
    with pytest.raises(InputError, match="unknown category or group 'Widget misuse'"):
        taxonomy.select(read, ["Widget misuse"])
    with pytest.raises(InputError, match="'Gadget misuse'"):
        taxonomy.select(read, ["Gadget misuse"], known=known)
