//! ODK's XPath dialect as XLSForm authors write it: parser, evaluator,
//! function library and dependency extraction.
