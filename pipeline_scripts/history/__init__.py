"""``greenlight history``: the audit trail of one group.

- :mod:`.reader` joins the registry, the ledger and CodePipeline into rows
  (:mod:`.executions`, :mod:`.joins`, :mod:`.stage_rows`, :mod:`.decisions`);
- :mod:`.rows` is the typed row every renderer reads;
- :mod:`.command` is the subcommand; it renders the rows as a table (:mod:`.table`),
  JSON, CSV or a page (:mod:`.page`, with :mod:`.timeline` and :mod:`.timeline_svg`);
- :mod:`.summary` computes the deployment metrics, :mod:`.summary_text` and
  :mod:`.summary_html` show them.
"""
