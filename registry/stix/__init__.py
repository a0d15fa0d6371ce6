"""STIX 2.1 both ways: identifiers, TLP 2.0 markings, the phone-number extension, export, import."""
