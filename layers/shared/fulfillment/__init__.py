"""DOFS shared domain code: models, rules, errors, repositories. Lives in SharedLayer; never imports functions/."""
