"""Key indicators in the browser: the author's confirmation on the report page, the district's
catalogue, the roll-up of a cycle (汇总) with its charts, and the plan check."""
