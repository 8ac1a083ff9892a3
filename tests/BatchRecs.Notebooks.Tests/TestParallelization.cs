// The notebook runner changes process-wide state while cells run (the working directory, BATCHRECS_LAKE),
// so the tests of this assembly run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
