"""The EL PAcCTO programme activity register (assets/activities/activities.csv): its domain.

Programme staff edit the register by hand; it is the source `paccto_activities`, whose tidy
functions (paccto_data/sources/paccto_activities.py) read the accepted snapshot through the
validator here. One job per module:

    vocabulary.py  the controlled vocabularies (assets/activities/vocabularies.yaml), their
                   reference frame and the activity-count SQL columns generated from them
    mapping.py     crime areas -> indicators, and the headline indicators (reference frames)
    register.py    the register validator: every problem in the terms of the staff
    command.py     python -m paccto_data.activities check|accept
"""

from paccto_data.activities.command import accept, main
from paccto_data.activities.mapping import (
    MAPPING_PATH,
    crime_area_indicator_frame,
    headline_indicator_frame,
)
from paccto_data.activities.register import (
    COLUMNS,
    REGISTER_PATH,
    SOURCE_ID,
    TEMPLATE_PATH,
    ParsedDate,
    Problem,
    RegisterError,
    check_register,
    parse_date,
    read_register,
    register_vintage,
    split_list,
)
from paccto_data.activities.vocabulary import (
    LINE_COLUMNS,
    VOCABULARIES_PATH,
    Vocabularies,
    activity_count_columns,
    vocabularies,
    vocabulary_frame,
)

__all__ = ["COLUMNS", "LINE_COLUMNS", "MAPPING_PATH", "REGISTER_PATH", "SOURCE_ID",
           "TEMPLATE_PATH", "VOCABULARIES_PATH", "ParsedDate", "Problem", "RegisterError",
           "Vocabularies", "accept", "activity_count_columns", "check_register",
           "crime_area_indicator_frame", "headline_indicator_frame", "main", "parse_date",
           "read_register", "register_vintage", "split_list", "vocabularies",
           "vocabulary_frame"]
