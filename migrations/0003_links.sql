-- Issue 10, the account and link findings.
--
-- An activation link that was handed over (`activation_url`: no mail carried it) proves
-- nothing about the address: activating through it leaves the address unverified.
ALTER TABLE tokens ADD COLUMN handed_over INTEGER NOT NULL DEFAULT 0 CHECK (handed_over IN (0, 1));

-- What the inviter typed as the invitee's name: while a membership is invited, the tenant
-- sees this, never the name of an account that exists elsewhere.
ALTER TABLE memberships ADD COLUMN invited_name TEXT;

-- Invitation mail is throttled by counting a tenant's invitation events in a window (per
-- day for the tenant, per hour for one invitation's resends): restart-proof, and served by
-- this index as one range.
CREATE INDEX audit_by_tenant_action ON audit_log (tenant_id, action, at);
