"""Business partners: the one shared record of customers and suppliers."""
