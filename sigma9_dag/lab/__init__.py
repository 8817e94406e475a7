"""The lab's stages as plain functions; sigma9_dag/assets wraps them as Dagster assets."""
