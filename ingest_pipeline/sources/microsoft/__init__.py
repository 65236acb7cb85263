"""Microsoft Graph sources: Outlook mail and Microsoft (Outlook) contacts."""
