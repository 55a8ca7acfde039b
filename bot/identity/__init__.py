"""Who a person is: invitation codes and slips, and the data requests people make about
themselves."""
