"""Shared admin behaviour."""


class SaveChangedFieldsMixin:
    """On change, write only the columns the form changed (and `auto_now` stamps).

    `Model.save()` writes every column, read-only ones included, from the row as it was loaded:
    a fund, refund or logout committed meanwhile would be overwritten with stale values.
    """

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        columns = {field.name: field for field in obj._meta.concrete_fields}
        changed = [name for name in form.changed_data if name in columns]
        if changed:
            stamps = [name for name, field in columns.items() if getattr(field, "auto_now", False)]
            obj.save(update_fields=[*changed, *stamps])
