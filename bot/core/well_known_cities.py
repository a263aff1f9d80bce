"""Well-known cities that are no CLDR exemplar city, by the zone they lie in.

CLDR names one city per zone (Berlin, Paris, Chicago), so a German user typing "Münster" or an
American typing "Dallas" found nothing (issue 13: 20 of 24 cities tried). This table adds the
German, Austrian and Swiss cities of 100,000 people or more and the largest cities of the
countries users most often live in, one name per line in the normalized form of
``schedule._normalize`` (lower case, no spaces, hyphens or diacritics, ß -> ss; umlauts as
plain vowels: "munster"). A city missing here can still be found by its zone name, by a
bigger city nearby, or in one tap with "share my location".
"""

from __future__ import annotations

from typing import Final

__all__ = ["WELL_KNOWN_CITIES"]

_BY_ZONE: Final = {
    "Europe/Berlin": """
        aachen bergischgladbach bielefeld bochum bottrop braunschweig brunswick
        chemnitz darmstadt duisburg erfurt erlangen freiburgimbreisgau furth
        gelsenkirchen gottingen gutersloh hagen halle hallesaale hamm heidelberg heilbronn
        herne hildesheim ingolstadt jena kassel koblenz krefeld leverkusen lubeck ludwigshafen
        magdeburg mainz moers monchengladbach mulheim mulheimanderruhr munster neuss
        oberhausen offenbach oldenburg osnabruck paderborn pforzheim recklinghausen regensburg
        remscheid reutlingen saarbrucken salzgitter siegen solingen trier ulm wiesbaden
        wolfsburg wuppertal wurzburg
    """,
    "Europe/Vienna": "stpolten sanktpolten villach wels dornbirn",
    "Europe/Zurich": "biel bienne thun schaffhausen fribourg freiburgimuchtland chur",
    "Europe/Paris": """
        lyon marseille toulouse nice nizza nantes strasbourg strassburg montpellier bordeaux
        lille rennes reims toulon grenoble dijon angers nimes
    """,
    "Europe/London": """
        manchester birmingham liverpool leeds glasgow edinburgh bristol sheffield newcastle
        cardiff nottingham leicester cambridge oxford
    """,
    "Europe/Madrid": "barcelona valencia sevilla seville zaragoza malaga bilbao",
    "Europe/Rome": "neapel naples napoli turin torino florenz florence bologna venedig venice",
    "Europe/Amsterdam": "rotterdam denhaag thehague utrecht eindhoven",
    "Europe/Brussels": "antwerpen antwerp gent ghent brugge bruges luttich liege",
    "America/New_York": """
        philadelphia atlanta charlotte baltimore pittsburgh orlando tampa jacksonville
        cleveland columbus cincinnati buffalo
    """,
    "America/Chicago": """
        dallas houston sanantonio austin fortworth minneapolis stlouis kansascity
        milwaukee nashville memphis neworleans oklahomacity
    """,
    "America/Denver": "saltlakecity albuquerque elpaso coloradosprings",
    "America/Los_Angeles": "sandiego sanjose portland lasvegas sacramento oakland",
    "America/Toronto": "ottawa",
    "Asia/Kolkata": "pune ahmedabad jaipur lucknow",
    "Australia/Sydney": "newcastlensw wollongong",
}

WELL_KNOWN_CITIES: Final[dict[str, str]] = {
    name: zone for zone, names in _BY_ZONE.items() for name in names.split()
}
