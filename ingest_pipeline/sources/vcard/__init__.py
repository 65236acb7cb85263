"""Address books in vCard files (``.vcf``, ``.vcard``) as a source of contacts."""
