"""A stage's run config, made from its lab Settings model: each knob is defined once, in the Settings.

Dagster builds the launchpad's config schema from a ``dg.Config`` class. :func:`stage_config` makes that
class from a stage's frozen pydantic Settings model (``DatasetSettings``, ``DiscoverySettings``, ...),
field by field, with the Settings' defaults, descriptions and constraints:

* a ``Literal`` field, or a tuple of ``Literal`` values, becomes a Dagster enum (an array of one): the
  launchpad offers the choices and Dagster refuses any other value when the run is launched;
* a tuple becomes a list (Dagster's config has no tuples; a fixed-length tuple keeps its length);
* bounds (``gt=``, ``ge=``, ``lt=``, ``le=``) stay on the field and are written into its description.
  Dagster's config schema has no numeric ranges, so an out-of-range value is refused when Dagster builds
  the stage's config object, as the step starts and before the asset's body runs, with a pydantic error
  naming the field; the Settings' cross-field rules are checked there too.

Example
-------
>>> DiscoveryConfig = stage_config(DiscoverySettings, "DiscoveryConfig")  # doctest: +SKIP
>>> DiscoveryConfig(n_neighbors=10).settings(DiscoverySettings).n_neighbors  # doctest: +SKIP
10
"""

import enum
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar, get_args, get_origin

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic.fields import FieldInfo

SettingsT = TypeVar("SettingsT", bound=BaseModel)

_BOUNDS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}


class StageConfig(dg.Config):
    """A stage's run config: the fields of one lab Settings model (a subclass is made by :func:`stage_config`)."""

    model_config = ConfigDict(extra="forbid")

    settings_model: ClassVar[type[BaseModel]]

    @model_validator(mode="after")
    def _settings_hold(self) -> Self:
        self._validated()  # the Settings' own rules (e.g. cross-field) refuse the config here, not in the stage
        return self

    def settings(self, model: type[SettingsT]) -> SettingsT:
        """The stage's settings; ``model`` is the Settings model this config was made from."""
        if model is not self.settings_model:
            raise TypeError(f"{type(self).__name__} holds {self.settings_model.__name__}, not {model.__name__}")
        return self._validated()  # type: ignore[return-value]

    def _validated(self) -> BaseModel:
        return self.settings_model.model_validate(self.model_dump(mode="json"))


def stage_config(settings: type[BaseModel], name: str) -> type[StageConfig]:
    """The run config class ``name`` of a stage whose knobs are the fields of ``settings``."""
    fields = {key: _config_field(settings, key, info) for key, info in settings.model_fields.items()}
    config = create_model(name, __base__=StageConfig, __doc__=settings.__doc__, **fields)  # type: ignore[call-overload]
    config.settings_model = settings
    return config


def _config_field(settings: type[BaseModel], key: str, info: FieldInfo) -> tuple[Any, Any]:
    annotation, default, notes = info.annotation, info.default, _bounds(info.metadata)
    extra: dict[str, Any] = {}
    if get_origin(annotation) is tuple:
        items = [arg for arg in get_args(annotation) if arg is not Ellipsis]
        if len(set(items)) != 1:
            raise TypeError(f"{settings.__name__}.{key}: a tuple of mixed types has no Dagster config type")
        item = items[0]
        if get_origin(item) is Literal:
            notes.append("each one of " + ", ".join(map(str, get_args(item))))
            item = enum.Enum(f"{settings.__name__}_{key}", {c: c for c in get_args(item)}, type=str)  # type: ignore[misc]
            extra["validate_default"] = True  # the default's strings become the enum's members
        annotation, default = list[item], list(default)  # type: ignore[valid-type]
        if Ellipsis not in get_args(info.annotation):
            notes.append(f"{len(items)} values")
            extra.update(min_length=len(items), max_length=len(items))
    elif get_origin(annotation) is Literal:
        notes.append("one of " + ", ".join(map(str, get_args(annotation))))
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]
    description = "; ".join(filter(None, [info.description, *notes])) or None
    return annotation, Field(default=default, description=description, **extra)


def _bounds(metadata: list[Any]) -> list[str]:
    return [
        f"{sign} {getattr(m, name)}"
        for m in metadata
        for name, sign in _BOUNDS.items()
        if getattr(m, name, None) is not None
    ]
