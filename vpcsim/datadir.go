package vpcsim

// S3Dir is the data directory's S3: <data-dir>/s3/BUCKET/KEY is the object
// KEY of BUCKET, for the flow logs that deliver to S3 and the environment
// files that ECS reads from it.
const S3Dir = "s3"
