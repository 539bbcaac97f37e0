"""Data access shared by the domains, behind protocols (see ``tenants.TenantStore``)."""
