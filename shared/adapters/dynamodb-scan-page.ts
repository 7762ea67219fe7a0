/**
 * The items a Scan page evaluates at most. DynamoDB ends a page at 1 MB anyway, so on AWS this
 * only makes pages of small items smaller. It is for DynamoDB Local, where a Scan without a limit
 * costs time in proportion to the whole table on every page: on a table of 220,000 items of 2 KB,
 * 2.3 s a page without it (the full table would take over 16 minutes), 13 s for the whole table
 * with it (docs/crash-test.md, "Reading the outcomes").
 */
export const SCAN_PAGE_LIMIT = 1000;
