// FAKE TEST DATA: the key id below is made up.
const { S3Client } = require("@aws-sdk/client-s3");

const s3 = new S3Client({
  region: "eu-west-1",
  credentials: { accessKeyId: "AKIAZ7XQFAKEFAKE0001", secretAccessKey: process.env.AWS_SECRET },
});

module.exports = { s3 };
