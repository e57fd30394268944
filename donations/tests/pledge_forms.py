"""The pledge form as a browser posts it, for the tests of the donor pages."""

ROW_FIELDS = (
    "category",
    "manufacturer",
    "model",
    "serial_number",
    "asset_tag",
    "quantity",
    "has_storage_media",
    "weight_kg",
)
# The storage select's answers: "" takes the category's usual answer.
STORAGE_ANSWER = {True: "yes", False: "no", None: ""}


def pledge_data(hub, rows, *, total=5, **extra):
    """POST data for the pledge form: ``rows`` filled, the rest of ``total`` left empty (defaults as rendered)."""
    data = {
        "hub": hub.pk,
        "pickup_address": "Rue Haute 1, 1000 Brussels",
        "pickup_date": "",
        "notes": "",
        "devices-TOTAL_FORMS": str(total),
        "devices-INITIAL_FORMS": "0",
        "devices-MIN_NUM_FORMS": "0",
        "devices-MAX_NUM_FORMS": "200",
    }
    for index in range(total):
        row = rows[index] if index < len(rows) else {}
        for name in ROW_FIELDS:
            if name == "has_storage_media":
                value = STORAGE_ANSWER[row.get(name)]
            else:
                value = row.get(name, "1" if name == "quantity" else "")
            data[f"devices-{index}-{name}"] = value
    data.update(extra)
    return data


def laptop(serial, **fields):
    return {"category": "laptop", "manufacturer": "Dell", "model": "Latitude 5490", "serial_number": serial} | fields
