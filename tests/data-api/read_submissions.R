# Reads central's data API from R (curl + jsonlite, Debian's packages), as a
# researcher would: every form's submissions into a data frame, following
# the cursor, and one submission. Run by scripts/test-data-api.sh against a
# live server; stops (non-zero exit) on any mismatch.
#
#   Rscript read_submissions.R http://127.0.0.1:PORT TOKEN
library(curl)
library(jsonlite)

args <- commandArgs(trailingOnly = TRUE)
base <- args[[1]]
token <- args[[2]]

get_json <- function(path) {
  h <- new_handle()
  handle_setheaders(h, Authorization = paste("Bearer", token))
  r <- curl_fetch_memory(paste0(base, path), handle = h)
  if (r$status_code != 200) stop(path, ": HTTP ", r$status_code, " ", rawToChar(r$content))
  fromJSON(rawToChar(r$content), simplifyVector = TRUE)
}

forms <- get_json("/v1/data/forms")
stopifnot(is.data.frame(forms), nrow(forms) > 0)
for (i in which(forms$submissions > 0)) {
  form_id <- forms$form_id[[i]]
  pages <- list()
  cursor <- NULL
  repeat {
    path <- paste0("/v1/data/forms/", form_id, "/submissions?limit=7")
    if (!is.null(cursor)) path <- paste0(path, "&cursor=", curl_escape(cursor))
    page <- get_json(path)
    pages[[length(pages) + 1]] <- page$items
    cursor <- page$next_cursor
    if (is.null(cursor)) break
  }
  df <- do.call(rbind, pages)
  stopifnot(nrow(df) == forms$submissions[[i]], !anyDuplicated(df$instance_id))
  one <- get_json(paste0("/v1/data/submissions/", curl_escape(df$instance_id[[1]])))
  stopifnot(one$submission$instance_id == df$instance_id[[1]])
  if (!df$sealed[[1]]) stopifnot(one$answers$KEY == df$instance_id[[1]])
  # The feed: the main table's rows, page by page, into one data frame.
  rows <- list()
  cursor <- NULL
  repeat {
    path <- paste0("/v1/data/forms/", form_id, "/rows?limit=7")
    if (!is.null(cursor)) path <- paste0(path, "&cursor=", curl_escape(cursor))
    page <- get_json(path)
    if (length(page$rows) > 0) rows[[length(rows) + 1]] <- page$rows
    cursor <- page$next_cursor
    if (is.null(cursor)) break
  }
  main <- if (length(rows) > 0) do.call(rbind, rows) else data.frame()
  readable <- sum(!df$sealed)
  stopifnot(nrow(main) == readable)
  if (readable > 0) stopifnot(all(main$KEY %in% df$instance_id), "KEY" %in% names(main))
  cat(sprintf("R: %s: %d submissions, %d rows in the feed\n", form_id, nrow(df), nrow(main)))
}
