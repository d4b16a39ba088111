# Run by central/tests/export_tools.rs: reads the export with haven and
# readxl, as an R user would, and compares each value with what was
# collected (expected.csv, and each answer's text in expected-name-N.txt).
# Prints `ok N`, N the number of values compared; stops at the first difference.
suppressMessages({
  library(haven)
  library(readxl)
})

out <- commandArgs(trailingOnly = TRUE)[1]
checked <- 0
same <- function(what, got, want) {
  if (!isTRUE(all.equal(got, want, check.attributes = FALSE))) {
    stop(sprintf("%s: got %s, want %s", what,
                 substr(paste(format(got), collapse = " "), 1, 300),
                 substr(paste(format(want), collapse = " "), 1, 300)))
  }
  checked <<- checked + 1
}

exp <- read.csv(file.path(out, "expected.csv"), colClasses = "character", encoding = "UTF-8")
name_of <- function(i) {
  path <- file.path(out, sprintf("expected-name-%s.txt", i))
  text <- readChar(path, file.size(path), useBytes = TRUE)
  Encoding(text) <- "UTF-8"
  text
}
utc <- function(iso) as.POSIXct(sub("(\\+|-)(\\d\\d):(\\d\\d)$", "\\1\\2\\3", iso),
                                format = "%Y-%m-%dT%H:%M:%OS%z", tz = "UTC")
score_stata <- c("1" = 1, "2" = 2, "3" = 3)
score_spss <- c("1" = 1, "2" = 2, "3" = 3, "na" = -914, "dk" = -904)

# ---- Stata .dta through haven ----
d <- read_dta(file.path(out, "tools.dta"))
same("dta rows", nrow(d), nrow(exp))
same("dta age is numeric", is.numeric(d$age), TRUE)
same("dta mean of a numeric calculate is a number", is.na(mean(d$mean, na.rm = TRUE)), FALSE)
same("dta score is labelled", inherits(d$score, "haven_labelled"), TRUE)
labels <- attr(d$score, "labels")
same("dta value labels in Portuguese", names(labels)[which(labels == 1)], "Baixa")
same("dta variable label", attr(d$age, "label"), "Idade")
same("dta visit_date is a Date", inherits(d$visit_date, "Date"), TRUE)
same("dta seen_at is a date-time", inherits(d$seen_at, "POSIXct"), TRUE)
for (i in seq_len(nrow(exp))) {
  e <- exp[i, ]
  row <- d[d$KEY == e$KEY, ]
  same("dta name", row$name, name_of(e$index))
  same("dta age", as.numeric(row$age), as.numeric(e$age))
  if (e$score %in% c("na", "dk")) {
    # Missing-style choices are Stata's extended missing values, tagged.
    same("dta missing-style score", na_tag(row$score), c(na = "n", dk = "d")[[e$score]])
  } else if (e$score != "") {
    same("dta score", as.numeric(row$score), score_stata[[e$score]])
  } else {
    same("dta empty score", is.na(row$score) && is.na(na_tag(row$score)), TRUE)
  }
  if (e$visit_date != "") same("dta visit_date", row$visit_date, as.Date(e$visit_date))
  same("dta seen_at (UTC)", as.numeric(row$seen_at), as.numeric(utc(e$seen_at)))
  if (e$mean != "") same("dta mean", round(as.numeric(row$mean), 2), as.numeric(e$mean))
  same("dta flag_calc is a number", as.numeric(row$flag_calc), as.numeric(e$flag_calc))
}

# ---- SPSS .sav through haven (user-missing values kept) ----
s <- read_sav(file.path(out, "tools.sav"), user_na = TRUE)
same("sav rows", nrow(s), nrow(exp))
same("sav score is labelled_spss", inherits(s$score, "haven_labelled_spss"), TRUE)
same("sav user-missing values", sort(as.numeric(attr(s$score, "na_values"))), c(-914, -904))
same("sav variable label", attr(s$age, "label"), "Idade")
same("sav visit_date is a Date", inherits(s$visit_date, "Date"), TRUE)
# Without user-missing values, don't know and not applicable are NA.
plain <- read_sav(file.path(out, "tools.sav"))
for (i in seq_len(nrow(exp))) {
  e <- exp[i, ]
  row <- s[s$KEY == e$KEY, ]
  # SPSS pads text with spaces: trailing spaces are not kept.
  same("sav name", sub(" +$", "", row$name), sub(" +$", "", name_of(e$index)))
  if (e$score != "") same("sav score code", as.numeric(row$score), score_spss[[e$score]])
  if (e$score %in% c("na", "dk")) same("sav missing-style score is NA", is.na(plain$score[plain$KEY == e$KEY]), TRUE)
  if (e$visit_date != "") same("sav visit_date", row$visit_date, as.Date(e$visit_date))
  same("sav seen_at (UTC)", as.numeric(row$seen_at), as.numeric(utc(e$seen_at)))
}

# ---- XLSX through readxl: typed cells ----
x <- read_excel(file.path(out, "tools.xlsx"), sheet = "tools")
same("xlsx rows", nrow(x), nrow(exp))
same("xlsx age is numeric", is.numeric(x$age), TRUE)
same("xlsx mean is numeric", is.numeric(x$mean), TRUE)
same("xlsx visit_date is a date-time", inherits(x$visit_date, "POSIXct"), TRUE)
for (i in seq_len(nrow(exp))) {
  e <- exp[i, ]
  row <- x[x$KEY == e$KEY, ]
  same("xlsx name", row$name, name_of(e$index))
  same("xlsx age", row$age, as.numeric(e$age))
  if (e$visit_date != "") same("xlsx visit_date", as.Date(row$visit_date), as.Date(e$visit_date))
}

# ---- The panel ----
p <- read_dta(file.path(out, "panel.dta"))
same("panel rows", nrow(p), nrow(unique(exp[, c("participant", "round")])))
same("panel is numeric where the form is", is.numeric(p$age), TRUE)

cat("ok", checked, "\n")
