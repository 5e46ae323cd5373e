"""Fleet stage: many collector bundles scanned and assessed in parallel, rolled up into one report and waves."""
