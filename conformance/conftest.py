# The suite's fixtures and hooks come from the strata plugin (pytest11 entry point,
# conformance.plugin); nothing else is needed here.
