"""English dates as the platform's readers write them (Belgium, Kenya, South Africa, DR Congo): day month year.

Django's English formats are American ("Dec. 7, 2026", "12/07/2026"), which reads as July in every country the
platform serves. French and Dutch keep Django's own (7 décembre 2026, 7 december 2026). Every page writes a date
with DATE_FORMAT and a moment with DATETIME_FORMAT, so each language has one way of writing a date.
"""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
TIME_FORMAT = "H:i"
