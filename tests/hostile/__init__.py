"""The attack classes that must stay fixed.

One module per class of attack (``test_<class>.py``); each test sends what a hostile
server or visitor sent once and asserts the server's answer and its state afterwards.
"""
