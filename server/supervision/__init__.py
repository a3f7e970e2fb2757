"""Supervision of facilitators (issue 17; domain-ipt.md section 13).

assignments  who supervises whom, set by a coordinator
agenda       the weekly agenda: a supervisor's flags since their last supervision meeting
meetings     supervision meetings recorded from it: cases discussed, actions until done

Read access for supervisors lives with the rest of access rules in `server.accounts.access`
(`supervises`, `viewable_cohort`, `viewable_enrollment`, `supervised_facilitator_ids`).
"""
