"""The contacts stream: address-book cards become one contact per person per tenant."""
