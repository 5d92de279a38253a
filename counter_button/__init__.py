"""The counter node: an officer's call-buttons, status light, buzzer, rating
buttons and the LED number board facing the citizens (`luot counter`)."""
