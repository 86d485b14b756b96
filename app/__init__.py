"""The Streamlit inspector: look at index dirs, answers, traces and eval results.

`rag app --root DIR` serves `app/main.py`. Pages live in `app/views/`; the modules beside them
hold what the pages share: path checks (`safety`), discovery of index dirs, eval folders, traces
and pipeline files (`discovery`), cached loading (`resources`), Streamlit pieces (`widgets`,
`why`, `pipeline_choice`), and the pure helpers that turn hits, traces, trees and eval records
into tables and pictures (`explain`, `pictures`, `trees`, `eval_results`). The harness that
serves the app and drives it in headless Chromium lives in tests/app/harness/. The app reads;
it never builds or rewrites an index, and every path it opens is checked against its roots.
"""
