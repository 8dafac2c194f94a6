"""Model fields shared by the apps."""

from django.db import models
from django.utils import timezone


class UpdatedAtField(models.DateTimeField):
    """When the row was last written: `auto_now` for saves of an existing row, but a new row
    keeps the value it was given (default: now).

    `auto_now` stamps every insert too, `bulk_create` included, so a bulk insert could not
    write the times it planned (the demo seeder's rows). Saves of an existing row and
    `update_fields` that name this field stamp it exactly as `auto_now` does; `update()` and
    `bulk_update()` leave it alone, as they leave `auto_now` alone.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", timezone.now)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key, value in (("default", timezone.now), ("editable", False), ("blank", True)):
            if kwargs.get(key) is value:
                del kwargs[key]
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        if add:
            return super().pre_save(model_instance, add)
        value = timezone.now()
        setattr(model_instance, self.attname, value)
        return value
