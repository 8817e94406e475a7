"""The lab's Dagster assets, one module per stage, all partitioned by FeatureSpec id."""
