/**
 * The items a Scan page evaluates at most. DynamoDB ends a page at 1 MB anyway, so on AWS this
 * only makes pages of small items smaller. It is for DynamoDB Local, where a page of a Scan
 * without a limit costs more the larger the table: with items of 2 KB, 0.7 s a page at 20,000
 * items and 2.3 s at 220,000 (the whole table would take over 16 minutes), against 13 s for all
 * 220,000 with the limit (`npm run bench:dynamodb-scan`; docs/crash-test.md, "Reading the outcomes").
 */
export const SCAN_PAGE_LIMIT = 1000;
